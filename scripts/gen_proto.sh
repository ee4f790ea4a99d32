#!/usr/bin/env bash
# Regenerate the gRPC Python code of proto/hallgw_api/v1/*.proto.
#
#   scripts/gen_proto.sh            regenerate in place, next to the .proto files (make proto)
#   scripts/gen_proto.sh OUT_DIR    write into OUT_DIR/hallgw_api/v1/ instead
#                                   (tests/packaging compares that with the committed code)
#
# The generated code is committed and never edited by hand. Its content depends on the
# grpcio-tools version (it embeds the minimum grpcio and protobuf runtimes), so that
# version is pinned exactly in pyproject.toml's dev extra; a runtime floor in
# [project] dependencies must not be lower than what the generated code demands.
#
# Environment: PYTHON selects the interpreter (default: .venv/bin/python).
set -euo pipefail

cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
out=${1:-}

shopt -s nullglob
protos=(proto/hallgw_api/v1/*.proto)
[ ${#protos[@]} -gt 0 ] || { echo "gen_proto: no .proto files under proto/hallgw_api/v1" >&2; exit 1; }

generate() {
    # -I proto: files are named hallgw_api/v1/x.proto, so the generated modules import each
    # other as `from hallgw_api.v1 import x_pb2`, which is the installed package layout.
    "$python" -m grpc_tools.protoc -I proto \
        --python_out="$1" --pyi_out="$1" --grpc_python_out="$1" "${protos[@]}"
}

if [ -n "$out" ]; then
    mkdir -p "$out"
    generate "$out"
    exit 0
fi

# In place: generate aside first, so a protoc error leaves the committed code untouched,
# then replace every generated file (a deleted .proto takes its generated files along).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
generate "$tmp"
rm -f proto/hallgw_api/v1/*_pb2.py proto/hallgw_api/v1/*_pb2.pyi proto/hallgw_api/v1/*_pb2_grpc.py
cp "$tmp"/hallgw_api/v1/* proto/hallgw_api/v1/
echo "gen_proto: regenerated $(find "$tmp/hallgw_api/v1" -type f | wc -l) files from ${#protos[@]} .proto files"
