#!/usr/bin/env python3
"""Rebuild tests/dicom/ from the pydicom 3.0.2 wheel's test files.

    python3 -m pip install pydicom==3.0.2 numpy
    python3 tests/dicom/make_set.py [path/to/pydicom-3.0.2-py3-none-any.whl]

Each original keeps its pixels; identifying values are planted into the
header (patient, institution, physicians, dates, private tags, a nested
sequence, an icon image, an overlay) so the tests can show that the
inventory lists them and that no released output carries them. The
planted values are listed in PLANTED below and in README.md.
"""
import io
import sys
import zipfile
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

HERE = Path(__file__).resolve().parent
WHEEL_NAME = "pydicom-3.0.2-py3-none-any.whl"

PLANTED = {
    "PatientName": "DOE^JANE^Q",
    "PatientID": "MRN-4401234",
    "PatientBirthDate": "19610704",
    "PatientAddress": "12 Harbour Row, Dunmore",
    "OtherPatientIDs": "NHS-943-476-5919",
    "InstitutionName": "St Elsewhere General",
    "ReferringPhysicianName": "HOUSE^GREGORY",
    "OperatorsName": "CAMERON^ALLISON",
    "AccessionNumber": "ACC-20240131-77",
    "StudyDate": "20240131",
    "StudyTime": "101522",
    "StationName": "WARD7-CAM2",
    "DeviceSerialNumber": "SN-88AX-0091",
    "StudyDescription": "Wound left shin Jane Doe",
}
PRIVATE_CREATOR = "ACME WOUNDCARE 1.0"
PRIVATE_VALUE = "bed 14 Jane Doe"
REQUESTED_PROCEDURE_ID = "RP-5550199"
JPEG_COMMENT = "Jane Doe MRN-4401234 probe 3"


def wheel_files(wheel):
    with zipfile.ZipFile(wheel) as z:
        prefix = "pydicom/data/test_files/"
        return {n[len(prefix):]: z.read(n) for n in z.namelist() if n.startswith(prefix)}


def plant(ds, icon=False, overlay=False):
    for k, v in PLANTED.items():
        setattr(ds, k, v)
    block = ds.private_block(0x0009, PRIVATE_CREATOR, create=True)
    block.add_new(0x01, "LO", PRIVATE_VALUE)
    item = Dataset()
    item.RequestedProcedureID = REQUESTED_PROCEDURE_ID
    item.ScheduledProcedureStepID = "SPS-31"
    ds.RequestAttributesSequence = Sequence([item])
    if icon:
        ic = Dataset()
        ic.SamplesPerPixel = 1
        ic.PhotometricInterpretation = "MONOCHROME2"
        ic.Rows = 8
        ic.Columns = 8
        ic.BitsAllocated = 8
        ic.BitsStored = 8
        ic.HighBit = 7
        ic.PixelRepresentation = 0
        ic.PixelData = bytes(range(64))
        ds.IconImageSequence = Sequence([ic])
    if overlay and 0x60003000 not in ds:
        ds.add_new(0x60000010, "US", ds.Rows)
        ds.add_new(0x60000011, "US", ds.Columns)
        ds.add_new(0x60000040, "CS", "G")
        ds.add_new(0x60000050, "SS", [1, 1])
        ds.add_new(0x60000100, "US", 1)
        ds.add_new(0x60000102, "US", 0)
        ds.add_new(0x60003000, "OW", bytes((ds.Rows * ds.Columns + 7) // 8 + 1 & ~1))


def save(ds, name):
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    (HERE / name).write_bytes(buf.getvalue())
    print(f"{name}: {len(buf.getvalue())} bytes")


def main():
    wheel = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    if wheel is None:
        import subprocess, tempfile
        tmp = Path(tempfile.mkdtemp())
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(tmp),
                        "pydicom==3.0.2"], check=True)
        wheel = tmp / WHEEL_NAME
    files = wheel_files(wheel)
    read = lambda n: pydicom.dcmread(io.BytesIO(files[n]))

    # A clinical photograph: RGB, uncompressed, VL Photographic.
    ds = read("examples_rgb_color.dcm")
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.77.1.4"
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.Modality = "XC"
    ds.BurnedInAnnotation = "NO"
    plant(ds, icon=True)
    save(ds, "photo_rgb.dcm")

    # Ultrasound: YBR_FULL_422 JPEG baseline, burned-in annotation claimed.
    ds = read("SC_rgb_jpeg_dcmd.dcm") if False else read("SC_rgb_jpeg_dcmtk.dcm")
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.6.1"
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.Modality = "US"
    ds.BurnedInAnnotation = "YES"
    plant(ds)
    # A comment inside the JPEG stream itself, where header tools never look.
    from pydicom.encaps import encapsulate, generate_frames
    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    text = JPEG_COMMENT.encode()
    com = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
    ds.PixelData = encapsulate([frame[:2] + com + frame[2:]])
    save(ds, "us_jpeg_burned_in.dcm")

    # Monochrome with an overlay plane (implicit VR as stored).
    ds = read("examples_overlay.dcm")
    plant(ds, overlay=True)
    save(ds, "mono_overlay.dcm")

    # Greyscale 16-bit CT with rescale and window.
    ds = read("CT_small.dcm")
    plant(ds)
    save(ds, "ct_mono16.dcm")

    # RLE lossless RGB secondary capture.
    ds = read("SC_rgb_rle.dcm")
    plant(ds)
    save(ds, "sc_rgb_rle.dcm")

    # Uncompressed YBR_FULL_422 (two pixels share one chroma pair).
    ds = read("SC_ybr_full_422_uncompressed.dcm")
    plant(ds)
    save(ds, "sc_ybr422.dcm")

    # Refused, kept as shipped: JPEG 2000, two frames, big endian.
    for src, dst in [("JPEG2000.dcm", "refused_jpeg2000.dcm"),
                     ("SC_rgb_rle_2frame.dcm", "refused_two_frames.dcm"),
                     ("SC_rgb_small_odd_big_endian.dcm", "refused_big_endian.dcm")]:
        (HERE / dst).write_bytes(files[src])
        print(f"{dst}: {len(files[src])} bytes")


if __name__ == "__main__":
    main()
