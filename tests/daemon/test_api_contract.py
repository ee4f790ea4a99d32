"""The error reasons agree in the proto, the gateway's mapping and docs/api.md."""

import re
from pathlib import Path

from hallgw_api.v1 import errors_pb2
from hallgw_daemon.api.errors import STATUS_OF_REASON
from hallgw_daemon.core import errors as core_errors

ROOT = Path(__file__).parents[2]


def test_every_reason_is_in_proto_mapping_and_docs() -> None:
    proto = {n.removeprefix("ERROR_REASON_") for n, _ in errors_pb2.ErrorReason.items()} - {"UNSPECIFIED"}
    raised = {
        cls.reason
        for cls in vars(core_errors).values()
        if isinstance(cls, type) and issubclass(cls, core_errors.GatewayError)
    }
    doc = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    table = doc[doc.index("<!-- reasons:start -->") : doc.index("<!-- reasons:end -->")]
    documented = dict(re.findall(r"^\| `([A-Z_]+)` \| ([A-Z_]+) \|", table, re.M))
    assert proto == set(STATUS_OF_REASON) == set(documented)
    assert raised <= proto
    for reason, code in STATUS_OF_REASON.items():
        assert documented[reason] == code.name, reason
