// Reviewer application page: field <-> box highlighting, in-place corrections, decisions.
"use strict";
(function () {
  const api = window.loandocs;

  function byKey(sel, key) {
    return Array.from(document.querySelectorAll(sel + '[data-key="' + CSS.escape(key) + '"]'));
  }

  // One thing highlighted at a time: the field (or statement row) and its box on the image.
  function activate(key, scrollTo) {
    document.querySelectorAll(".active").forEach((el) => el.classList.remove("active"));
    const items = byKey(".field", key).concat(byKey(".txn", key));
    const boxes = byKey("rect.box", key);
    items.concat(boxes).forEach((el) => el.classList.add("active"));
    const target = scrollTo === "box" ? boxes[0] : items[0];
    if (target && target.scrollIntoView) target.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  document.addEventListener("click", (ev) => {
    const t = ev.target;
    if (!(t instanceof Element)) return;
    if (t.closest("form, button, a, summary, input, textarea, select, details")) return;
    const box = t.closest("rect.box");
    if (box) { activate(box.dataset.key, "item"); return; }
    const item = t.closest(".field, .txn");
    if (item && item.dataset.key) activate(item.dataset.key, "box");
  });
  document.addEventListener("keydown", (ev) => {
    const t = ev.target;
    if ((ev.key === "Enter" || ev.key === " ") && t instanceof Element && t.matches(".field, .txn")) {
      ev.preventDefault();
      activate(t.dataset.key, "box");
    }
  });

  // Boxes are in the stored image's pixels; take the size from the image itself when the
  // extraction did not record it.
  function fitBoxes(img) {
    const svg = img.parentElement.querySelector("svg.boxes");
    if (svg && img.naturalWidth && !svg.getAttribute("viewBox")) {
      svg.setAttribute("viewBox", "0 0 " + img.naturalWidth + " " + img.naturalHeight);
    }
  }
  document.querySelectorAll(".page img").forEach((img) => {
    if (img.complete) fitBoxes(img); else img.addEventListener("load", () => fitBoxes(img));
  });

  // Corrections.
  document.querySelectorAll(".edit-toggle").forEach((btn) => {
    btn.addEventListener("click", () => {
      const form = document.getElementById(btn.getAttribute("aria-controls"));
      form.hidden = !form.hidden;
      btn.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) form.querySelector("input").focus();
    });
  });
  // In-place forms of a document: a field correction, a waived check. Each posts its body to
  // the document's route and reloads the page; an error stays beside the form.
  function documentForm(selector, route, body, failed) {
    document.querySelectorAll(selector).forEach((form) => {
      const err = form.querySelector(".error");
      form.querySelector(".cancel").addEventListener("click", () => { form.hidden = true; });
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const button = form.querySelector("button[type=submit]");
        button.disabled = true;
        err.hidden = true;
        try {
          await api.send("POST", "/v1/documents/" + form.dataset.doc + "/" + route, body(form));
          location.reload();
        } catch (e) {
          err.textContent = failed + e.message;
          err.hidden = false;
          button.disabled = false;
        }
      });
    });
  }
  documentForm("form.correct", "corrections", (form) => ({
    field: form.dataset.field, part: Number(form.dataset.part),
    value: form.elements.value.value, reason: form.elements.reason.value,
  }), "保存失败：");
  documentForm("form.waive", "waivers", (form) => ({
    code: form.dataset.code, part: Number(form.dataset.part), reason: form.elements.reason.value,
  }), "豁免失败：");

  // Claim, decision, supplement request, disbursement.
  const actError = document.getElementById("act-error");
  function body(form, submitter) {
    const el = form.elements;
    switch (form.dataset.kind) {
      case "claim": return { note: el.note.value };
      case "decision": return { decision: submitter.value, opinion: el.opinion.value };
      case "supplement": return {
        reasons: Array.from(form.querySelectorAll('input[name="reason"]:checked')).map((c) => {
          const [code, docType] = c.value.split("|");
          return { code, doc_type: docType };
        }),
        note: el.note.value,
      };
      case "disburse": return { date: el.date.value, amount: el.amount.value };
    }
    return {};
  }
  document.querySelectorAll("form.act").forEach((form) => {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const buttons = form.querySelectorAll("button");
      buttons.forEach((b) => { b.disabled = true; });
      actError.hidden = true;
      try {
        await api.send("POST", form.dataset.url, body(form, ev.submitter));
        location.reload();
      } catch (e) {
        actError.textContent = "操作失败：" + e.message;
        actError.hidden = false;
        buttons.forEach((b) => { b.disabled = false; });
      }
    });
  });
})();
