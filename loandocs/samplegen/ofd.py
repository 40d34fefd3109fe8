"""OFD (GB/T 33190) versions of synthetic documents: the characters of a generated PDF written
as OFD TextObjects (same text, same positions, in millimetres), or page images wrapped as
ImageObjects (a scan in OFD). Also the hostile archives the loader must refuse.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

NS = "http://www.ofdspec.org/2016"
PT_TO_MM = 25.4 / 72


def _mm(v: float) -> str:
    return f"{v * PT_TO_MM:.3f}".rstrip("0").rstrip(".")


def _ofd_xml() -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:OFD xmlns:ofd="{NS}" Version="1.0" DocType="OFD"><ofd:DocBody>'
            "<ofd:DocInfo><ofd:DocID>loandocs-synthetic</ofd:DocID><ofd:Creator>loandocs samplegen</ofd:Creator></ofd:DocInfo>"
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")  # fmt: skip


def _document(n_pages: int, w_mm: float, h_mm: float, with_res: bool) -> str:
    pages = "".join(f'<ofd:Page ID="{10 + i}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(n_pages))
    res = "<ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>" if with_res else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Document xmlns:ofd="{NS}"><ofd:CommonData><ofd:MaxUnitID>99999</ofd:MaxUnitID>'
            f"<ofd:PageArea><ofd:PhysicalBox>0 0 {w_mm:.3f} {h_mm:.3f}</ofd:PhysicalBox></ofd:PageArea>"
            f"<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>{res}</ofd:CommonData><ofd:Pages>{pages}</ofd:Pages></ofd:Document>")  # fmt: skip


def _public_res() -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Res xmlns:ofd="{NS}" BaseLoc="Res"><ofd:Fonts><ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>'


def _page(objects: list[str]) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Page xmlns:ofd="{NS}"><ofd:Content><ofd:Layer ID="3">{"".join(objects)}</ofd:Layer></ofd:Content></ofd:Page>'


def _runs(chars: list[dict]) -> list[list[dict]]:
    """Characters in drawing order cut into runs on one baseline, one font size, moving right."""
    runs: list[list[dict]] = []
    for ch in chars:
        if not ch["text"].strip():
            continue
        last = runs[-1][-1] if runs else None
        if (last is not None and abs(last["matrix"][5] - ch["matrix"][5]) < 0.01 and abs(last["size"] - ch["size"]) < 0.01
                and 0 <= ch["x0"] - last["x1"] <= 0.3 * ch["size"]):  # fmt: skip
            runs[-1].append(ch)
        else:
            runs.append([ch])
    return runs


def pdf_to_ofd(pdf: bytes) -> bytes:
    """The PDF's text layer as OFD TextObjects, page by page (drawings and images left out)."""
    import pdfplumber

    pages: list[str] = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        w, h = float(doc.pages[0].width), float(doc.pages[0].height)
        for page in doc.pages:
            objects = []
            uid = 100
            for run in _runs(page.chars):
                size = run[0]["size"]
                x0 = run[0]["x0"]
                base = float(page.height) - run[0]["matrix"][5]  # baseline, from the top
                top = base - size
                width = run[-1]["x1"] - x0
                deltas = " ".join(_mm(b["x0"] - a["x0"]) for a, b in zip(run, run[1:]))
                text = escape("".join(c["text"] for c in run))
                objects.append(f'<ofd:TextObject ID="{uid}" Boundary="{_mm(x0)} {_mm(top)} {_mm(width + size)} {_mm(size * 1.3)}" Font="2" '
                               f'Size="{_mm(size)}"><ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="{_mm(size)}"'
                               f'{f" DeltaX={chr(34)}{deltas}{chr(34)}" if deltas else ""}>{text}</ofd:TextCode></ofd:TextObject>')  # fmt: skip
                uid += 1
            pages.append(_page(objects))
    return _zip(pages, w * PT_TO_MM, h * PT_TO_MM)


def images_to_ofd(jpegs: list[bytes], w_mm: float = 210.0, h_mm: float = 297.0) -> bytes:
    """Page images (a scan) as an OFD with one ImageObject per page and no text."""
    media = "".join(f'<ofd:MultiMedia ID="{50 + i}" Type="Image"><ofd:MediaFile>page_{i}.jpg</ofd:MediaFile></ofd:MultiMedia>' for i in range(len(jpegs)))
    res = f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Res xmlns:ofd="{NS}" BaseLoc="Res"><ofd:MultiMedias>{media}</ofd:MultiMedias></ofd:Res>'
    pages = [_page([f'<ofd:ImageObject ID="{200 + i}" Boundary="0 0 {w_mm} {h_mm}" CTM="{w_mm} 0 0 {h_mm} 0 0" ResourceID="{50 + i}"/>'])
             for i in range(len(jpegs))]  # fmt: skip
    extra = {"Doc_0/DocumentRes.xml": res.encode()} | {f"Doc_0/Res/page_{i}.jpg": jp for i, jp in enumerate(jpegs)}
    return _zip(pages, w_mm, h_mm, extra)


def _zip(pages: list[str], w_mm: float, h_mm: float, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in (("OFD.xml", _ofd_xml().encode()), ("Doc_0/Document.xml", _document(len(pages), w_mm, h_mm, bool(extra)).encode()),
                           ("Doc_0/PublicRes.xml", _public_res().encode())):  # fmt: skip
            _write(z, name, data)
        for i, page in enumerate(pages):
            _write(z, f"Doc_0/Pages/Page_{i}/Content.xml", page.encode())
        for name, data in (extra or {}).items():
            _write(z, name, data)
    return buf.getvalue()


def _write(z: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))  # fixed time: same bytes for a seed
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, data)


# ---------------------------------------------------------------- hostile archives (tests)


def hostile_ofd(kind: str) -> bytes:
    """``bomb`` (a page that inflates to gigabytes' worth of claims), ``traversal`` (a
    ``../`` entry name), ``laughs`` (billion-laughs entities), ``entries`` (100,000 entries)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", _ofd_xml())
        if kind == "traversal":
            z.writestr("Doc_0/Document.xml", _document(1, 210, 297, False))
            z.writestr("../../etc/Content.xml", _page([]))
        elif kind == "laughs":
            lol = (
                '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
                + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
                + "]>"
            )
            z.writestr("Doc_0/Document.xml", lol + f'<ofd:Document xmlns:ofd="{NS}">&lol9;</ofd:Document>')
        elif kind == "bomb":
            z.writestr("Doc_0/Document.xml", _document(1, 210, 297, False))
            z.writestr("Doc_0/Pages/Page_0/Content.xml", b"<a>" + b" " * (400 * 1024 * 1024) + b"</a>")
        elif kind == "entries":
            z.writestr("Doc_0/Document.xml", _document(1, 210, 297, False))
            for i in range(100_000):
                z.writestr(zipfile.ZipInfo(f"x/{i}"), b"")
        else:
            raise ValueError(kind)
    return buf.getvalue()


__all__ = ["hostile_ofd", "images_to_ofd", "pdf_to_ofd"]
