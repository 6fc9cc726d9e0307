"""Our event files decode with an independent implementation (tensorboardX's protobuf schema)."""

import struct

import pytest

from ganjax.outputs.tensorboard import ScalarWriter, crc32c


def test_crc32c_check_value():
    assert crc32c(b"123456789") == 0xE3069283  # the standard CRC-32C check value


def read_records(path, masked_crc32c):
    """TFRecord framing, checking both checksums with tensorboardX's own CRC code."""
    data, records, offset = open(path, "rb").read(), [], 0
    while offset < len(data):
        header = data[offset: offset + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack_from("<I", data, offset + 8)
        payload = data[offset + 12: offset + 12 + length]
        (payload_crc,) = struct.unpack_from("<I", data, offset + 12 + length)
        assert header_crc == masked_crc32c(header) and payload_crc == masked_crc32c(payload)
        records.append(payload)
        offset += 12 + length + 4
    return records


def test_scalars_round_trip_through_the_tensorboard_event_proto(tmp_path):
    event_pb2 = pytest.importorskip("tensorboardX.proto.event_pb2")
    from tensorboardX.record_writer import masked_crc32c

    writer = ScalarWriter(str(tmp_path))
    writer.scalars(300, {"train/d_loss": 1.25, "eval/modes": 8.0})
    writer.scalars(2**40, {"train/g_loss": -0.5})
    writer.close()
    events = [event_pb2.Event.FromString(r) for r in read_records(writer.path, masked_crc32c)]
    assert events[0].file_version == "brain.Event:2"
    assert events[1].step == 300
    assert {v.tag: v.simple_value for v in events[1].summary.value} == {
        "train/d_loss": 1.25, "eval/modes": 8.0}
    assert events[2].step == 2**40 and events[2].summary.value[0].simple_value == -0.5
    assert events[2].wall_time > 1.6e9
