"""faceweave: face swapping for images and videos (docs/python.md).

    import cv2, faceweave
    engine = faceweave.Engine()
    out = engine.swap([cv2.imread("source.jpg")], cv2.imread("target.jpg"), blend="laplacian")
    cv2.imwrite("out.jpg", out)
"""
from ._faceweave import (  # noqa: F401
    CancelledError, Engine, Error, InternalError, InvalidArgumentError, InvalidInputError, IoError, ModelError,
    NoFaceError, NotFoundError, PermissionDeniedError, UnsupportedError, __version__)
