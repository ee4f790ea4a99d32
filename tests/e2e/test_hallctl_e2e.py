"""hallctl against the real daemon, as an engineer uses it."""

import json

from support.hall import Hall, hallctl

from hallgw_simulators.deck import Deck


async def test_devices_read_and_admin_from_the_cli(hall: Hall, deck: Deck) -> None:
    code, out, _ = await hallctl(hall, "devices", "--json")
    assert code == 0
    devices = json.loads(out)
    rows = devices if isinstance(devices, list) else devices["devices"]
    assert {d["device_id"] for d in rows} >= {"idr-01", "idr-02", "idr-03", "idr-04", "idr-05"}

    await hall.ctl.insert("idr-01", "resident-1")
    card = deck["resident-1"].text
    code, out, err = await hallctl(hall, "read-id", "idr-01")
    assert code == 0, err
    assert card.id_number not in out + err and card.name not in out + err  # type: ignore[union-attr]
    code, out, _ = await hallctl(hall, "read-id", "idr-01", "--show-pii", "--json")
    assert code == 0 and card.id_number in out  # type: ignore[union-attr]

    code, _, err = await hallctl(hall, "disable", "idr-02", "--reason", "cable being replaced")
    assert code == 0
    code, out, err = await hallctl(hall, "read-id", "idr-02", "--wait", "0")
    assert code == 1 and "DEVICE_DISABLED" in err
    code, _, _ = await hallctl(hall, "enable", "idr-02")
    assert code == 0
    code, out, err = await hallctl(hall, "read-id", "idr-99")
    assert code == 2 and "UNKNOWN_DEVICE" in err
