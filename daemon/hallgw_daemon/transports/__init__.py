"""Links that move bytes to and from devices, opened from a URL.

``open_link("serial:///dev/ttyUSB0?baud=115200")`` or
``open_link("tcp://127.0.0.1:7001")`` (a simulator or a serial-over-IP
converter) return a :class:`Link`; drivers never see which it is.
"""

from hallgw_daemon.transports.link import Link, LinkClosedError, LinkOpenError, LinkUrl, open_link, parse_link_url

__all__ = ["Link", "LinkClosedError", "LinkOpenError", "LinkUrl", "open_link", "parse_link_url"]
