"""The Python module against the real engine and the shared test photos and video (docs/python.md)."""
import os
import threading

import numpy as np
import pytest

import faceweave

TESTDATA = os.environ.get("FACEWEAVE_TESTDATA_DIR", os.path.join(os.path.dirname(__file__), "../../../shared/testdata"))


def read(name):
    import cv2  # python3-opencv: the tests read photos the way a user would
    image = cv2.imread(os.path.join(TESTDATA, "images", name))
    assert image is not None, name
    return image


@pytest.fixture(scope="module")
def engine():
    return faceweave.Engine(provider="cpu")


def test_version_and_provider(engine):
    assert faceweave.__version__.count(".") == 2
    assert engine.provider == "cpu"


def test_analyse_finds_the_face_with_its_attributes(engine):
    image = read("obama.jpg")
    faces = engine.analyse(image)
    assert len(faces) == 1
    f = faces[0]
    x, y, w, h = f["box"]
    assert 0 <= x < image.shape[1] and 0 <= y < image.shape[0] and w > 50 and h > 50
    assert 0.5 < f["score"] <= 1
    assert f["landmarks"].shape == (68, 2) and f["landmarks5"].shape == (5, 2)
    assert f["embedding"] is not None and abs(float(np.linalg.norm(f["embedding"])) - 1) < 1e-3
    assert f["gender"] == "male" and 30 < f["age"] < 80
    assert set(f["pose"]) == {"yaw", "pitch", "roll"}
    assert len(engine.analyse(read("two_people.jpg"))) == 2
    assert engine.analyse(np.full((240, 320, 3), 127, np.uint8)) == []


def test_swap_changes_the_face_and_keeps_the_frame(engine):
    source, target = read("obama.jpg"), read("biden.jpg")
    out = engine.swap([source], target, blend="affine")
    assert out.shape == target.shape and out.dtype == np.uint8
    diff = np.abs(out.astype(int) - target.astype(int)).sum(axis=2)
    x, y, w, h = (int(v) for v in engine.analyse(target)[0]["box"])
    assert (diff[y:y + h, x:x + w] > 30).mean() > 0.1  # the face changed ...
    assert diff[:10, :].mean() < 5                     # ... the top rows did not
    # The swapped face is nearer the source's identity than the target's was.
    src = engine.analyse(source)[0]["embedding"]
    before = engine.analyse(target)[0]["embedding"]
    after = engine.analyse(out)[0]["embedding"]
    assert float(after @ src) > float(before @ src)


def test_errors_carry_the_engines_codes_and_messages(engine):
    target = read("biden.jpg")
    with pytest.raises(faceweave.InvalidArgumentError) as e:
        engine.swap([read("obama.jpg")], target, identity_strength=7)
    assert e.value.code == "invalid_argument" and "identity_strength" in str(e.value)
    assert isinstance(e.value, faceweave.Error)
    with pytest.raises(faceweave.InvalidArgumentError) as e:
        engine.swap([read("obama.jpg")], target, blend="sideways")
    assert "blend" in e.value.message
    with pytest.raises(faceweave.NoFaceError) as e:
        engine.swap([np.full((240, 320, 3), 127, np.uint8)], target)
    assert e.value.code == "no_face"
    with pytest.raises(faceweave.InvalidArgumentError, match="uint8"):
        engine.analyse(np.zeros((10, 10), np.float32))
    with pytest.raises(faceweave.Error):
        faceweave.Engine(provider="quantum")


def test_swap_video_reports_progress(engine, tmp_path):
    out = tmp_path / "out.mp4"
    seen = []
    report = engine.swap_video([os.path.join(TESTDATA, "images", "obama.jpg")],
                               os.path.join(TESTDATA, "video", "video_01.mp4"), str(out),
                               progress=lambda done, total: seen.append((done, total)), trim_frame_end=10)
    assert out.stat().st_size > 0
    assert report["frames"] == 10 and report["faces_swapped"] > 0
    assert [d for d, _ in seen] == list(range(1, 11))


def test_a_raising_progress_callback_stops_the_run(engine, tmp_path):
    out = tmp_path / "out.mp4"

    def stop(done, total):
        raise KeyboardInterrupt("stop here")

    with pytest.raises(KeyboardInterrupt, match="stop here"):
        engine.swap_video([os.path.join(TESTDATA, "images", "obama.jpg")],
                          os.path.join(TESTDATA, "video", "video_01.mp4"), str(out), progress=stop)
    assert not out.exists()  # no partial output


def test_the_gil_is_released_and_two_threads_agree(engine):
    source, target = read("obama.jpg"), read("biden.jpg")
    # Without the watermark: its payload carries a fresh random id per run, so marked outputs differ.
    alone = engine.swap([source], target, watermark=False)
    results, started = [None, None], threading.Event()

    def work(i):
        started.set()
        results[i] = engine.swap([source], target, watermark=False)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    started.wait()
    # While the swaps run in C++, this thread keeps running Python: it could not if they held the GIL.
    spins = 0
    while any(t.is_alive() for t in threads):
        spins += 1
    for t in threads:
        t.join()
    assert spins > 1000
    for r in results:
        assert np.array_equal(r, alone)


def test_telemetry_is_off_unless_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEWEAVE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FACEWEAVE_TELEMETRY", "all")  # the environment alone does not opt in
    faceweave.Engine().analyse(read("obama.jpg"))
    assert not (tmp_path / "telemetry").exists()
    e = faceweave.Engine(telemetry="usage")
    e.analyse(read("obama.jpg"))
    del e  # flushes
    assert (tmp_path / "telemetry" / "events.db").exists()
