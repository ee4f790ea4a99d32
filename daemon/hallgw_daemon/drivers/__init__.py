"""Device drivers: one module per family, found through a registry keyed by kind.

Importing this package registers the built-in drivers. A driver whose vendor
library is missing fails to register and disables its own kind only.
"""

from hallgw_daemon.drivers import document as _document  # noqa: F401 - registers the document reader driver
from hallgw_daemon.drivers import document_camera as _document_camera  # noqa: F401 - registers the page camera
from hallgw_daemon.drivers import fingerprint as _fingerprint  # noqa: F401 - registers the fingerprint driver
from hallgw_daemon.drivers import form_printer as _form_printer  # noqa: F401 - registers the A4 form printer
from hallgw_daemon.drivers import idcard as _idcard  # noqa: F401 - registers the ID card driver
from hallgw_daemon.drivers import kiosk as _kiosk  # noqa: F401 - registers the kiosk driver
from hallgw_daemon.drivers import lighting as _lighting  # noqa: F401 - registers the studio light driver
from hallgw_daemon.drivers import mrz as _mrz  # noqa: F401 - registers the MRZ reader driver
from hallgw_daemon.drivers import payment_scanner as _payment_scanner  # noqa: F401 - registers the scanner driver
from hallgw_daemon.drivers import photo as _photo  # noqa: F401 - registers the camera driver
from hallgw_daemon.drivers import ticket_printer as _ticket_printer  # noqa: F401 - registers the ticket printer
from hallgw_daemon.drivers.base import Driver, DriverContext, TraceRecord, driver_for, register_driver

__all__ = ["Driver", "DriverContext", "TraceRecord", "driver_for", "register_driver"]
