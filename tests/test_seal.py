"""Seal detection on drawn pages: a red stamp, the same stamp in grey, and no stamp."""

import cv2
import numpy as np

from loandocs.extractor.seal import find_seal


def _page(with_seal: bool, colour=(40, 40, 220)) -> np.ndarray:
    page = np.full((1650, 1200, 3), 255, np.uint8)
    for i in range(18):  # lines of "text" and a table rule, which must not look like a seal
        y = 150 + i * 60
        cv2.rectangle(page, (100, y), (100 + (i * 37) % 700 + 300, y + 18), (30, 30, 30), -1)
    cv2.line(page, (80, 1300), (1100, 1300), (0, 0, 0), 2)
    if with_seal:
        c, r = (850, 1350), 115
        cv2.circle(page, c, r, colour, 7)
        cv2.circle(page, c, r - 14, colour, 2)
        star = np.array([[850, 1300], [862, 1338], [902, 1338], [870, 1361], [882, 1400], [850, 1376], [818, 1400], [830, 1361], [798, 1338], [838, 1338]], np.int32)
        cv2.fillPoly(page, [star], colour)
        for k in range(12):  # blobs along the upper arc, like characters
            a = np.pi * (1.1 + 0.8 * k / 11)
            p = (int(c[0] + 0.75 * r * np.cos(a)), int(c[1] + 0.75 * r * np.sin(a)))
            cv2.rectangle(page, (p[0] - 9, p[1] - 9), (p[0] + 9, p[1] + 9), colour, -1)
    return page


def test_red_seal_is_found_where_it_is():
    seal = find_seal(_page(True))
    assert seal is not None and seal.method == "colour"
    assert abs(seal.cx - 850) < 15 and abs(seal.cy - 1350) < 15 and abs(seal.radius - 115) < 15


def test_grey_seal_is_found_by_its_shape():
    grey = cv2.cvtColor(cv2.cvtColor(_page(True), cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    seal = find_seal(grey)
    assert seal is not None and seal.method == "shape"
    assert abs(seal.cx - 850) < 20 and abs(seal.cy - 1350) < 20


def test_no_seal_on_a_page_of_text():
    assert find_seal(_page(False)) is None
    grey = cv2.cvtColor(cv2.cvtColor(_page(False), cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    assert find_seal(grey) is None
