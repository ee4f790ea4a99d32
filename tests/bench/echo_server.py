"""A bare grpc.aio server answering GetDevice with a fixed device: the baseline of the RPS benchmark.

Run as a process (``python echo_server.py PORT``), like the daemon, so the two are
measured the same way.
"""

import asyncio
import sys

import grpc

from hallgw_api.v1 import device_pb2, device_service_pb2, device_service_pb2_grpc


class Echo(device_service_pb2_grpc.DeviceServiceServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.reply = device_service_pb2.GetDeviceResponse(
            device=device_pb2.Device(
                device_id="idr-01", kind=device_pb2.DEVICE_KIND_IDCARD_READER, station_id="window-01",
                name="ID card reader, window 1", admin_state=device_pb2.ADMIN_STATE_ENABLED,
                oper_state=device_pb2.OPER_STATE_ONLINE, link="serial:///dev/pts/9?baud=115200",
                identity={"sam_id": "05.01-22031395-796859788-226121837"},
            )
        )  # fmt: skip

    async def GetDevice(self, request: object, context: object) -> device_service_pb2.GetDeviceResponse:
        return self.reply


async def main(port: int) -> None:
    server = grpc.aio.server()
    device_service_pb2_grpc.add_DeviceServiceServicer_to_server(Echo(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
