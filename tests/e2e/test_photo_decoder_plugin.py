"""The WLT decoder hook: an installed plugin's output reaches the caller; a broken one disables decoding only."""

from pathlib import Path

from support.hall import by_device, read_request, running_hall

from hallgw_api.v1 import idcard_pb2

PLUGIN = Path(__file__).with_name("plugins") / "wlt_fake"


async def test_installed_decoder_fills_decoded_photo(tmp_path: Path) -> None:
    async with running_hall(tmp_path / "hall", baud=0, daemon_env={"PYTHONPATH": str(PLUGIN)}) as hall:
        await hall.ctl.insert("idr-02", "resident-1")
        resp = await hall.idcard.ReadIdCard(read_request(by_device("idr-02")), timeout=5)
        assert resp.card.photo.format == idcard_pb2.PHOTO_FORMAT_WLT
        assert resp.card.decoded_photo.format == idcard_pb2.PHOTO_FORMAT_BMP
        assert resp.card.decoded_photo.data == b"BM" + (1024).to_bytes(4, "little")
        assert '"plugin": "test"' in hall.gw_log.read_text()


async def test_broken_decoder_leaves_reads_working(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    (broken / "hallgw_broken_wlt-0.1.dist-info").mkdir(parents=True)
    (broken / "hallgw_broken_wlt-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: b\nVersion: 0.1\n"
    )
    (broken / "hallgw_broken_wlt-0.1.dist-info" / "entry_points.txt").write_text(
        "[hallgw.wlt_decoders]\nbroken = vendor_library_not_installed:decode\n"
    )
    async with running_hall(tmp_path / "hall", baud=0, daemon_env={"PYTHONPATH": str(broken)}) as hall:
        await hall.ctl.insert("idr-02", "resident-1")
        resp = await hall.idcard.ReadIdCard(read_request(by_device("idr-02")), timeout=5)
        assert len(resp.card.photo.data) == 1024
        assert not resp.card.HasField("decoded_photo")
        assert "wlt decoder unavailable" in hall.gw_log.read_text()
