// Applicant page: uploads with progress (XHR), drag and drop, and a checklist kept current by
// polling the application's progress.
"use strict";
(function () {
  const root = document.getElementById("app");
  if (!root) return;  // the other applicant pages need no script
  const appId = root.dataset.app;
  const api = window.loandocs;
  const POLL_MS = 3000;

  const ERRORS = {
    unsupported_type: "文件格式不支持，请上传照片（JPG、PNG 等）或 PDF。",
    file_too_large: "文件太大，单个文件不能超过 25 MB。",
    empty_file: "文件是空的，请重新选择。",
    corrupt_file: "文件已损坏，无法打开。",
    application_closed: "申请已办结，不能再上传材料。",
    rate_limited: "操作太频繁，请稍后再试。",
    csrf_failed: "页面已过期，请刷新后重试。",
    auth_required: "登录已失效，请用访问码重新进入。",
  };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function render(p) {
    const status = document.getElementById("status");
    status.textContent = p.status_zh;
    status.className = "status s-" + p.status;
    status.dataset.status = p.status;
    document.getElementById("completeness").value = p.completeness;
    document.getElementById("completeness-text").textContent = p.completeness + "%";

    const box = document.getElementById("supplement");
    const list = document.getElementById("supplement-list");
    list.replaceChildren(...p.supplement.map((s) => el("li", "", s.message_zh)));
    box.hidden = p.supplement.length === 0;

    document.getElementById("checklist").replaceChildren(...p.checklist.map((it) => {
      const li = el("li", it.state);
      li.dataset.material = it.material;
      li.append(el("span", "state", it.state_zh), document.createTextNode(" " + it.name_zh));
      return li;
    }));
    const docs = p.documents.map((d) => {
      const li = el("li", "doc-" + d.status);
      li.dataset.status = d.status;
      li.append(el("span", "", d.filename + " — "), el("b", "", d.status_zh));
      return li;
    });
    document.getElementById("documents").replaceChildren(...(docs.length ? docs : [el("li", "muted", "还没有上传文件。")]));
    // Each finished upload follows its document through the queue.
    p.documents.forEach((d) => {
      const note = document.querySelector('#uploads li[data-doc="' + d.id + '"] .note');
      if (note) note.textContent = " 已上传，" + d.status_zh;
    });
  }

  let timer = null;
  async function poll() {
    clearTimeout(timer);
    try {
      render(await api.send("GET", "/v1/applications/" + appId + "/progress"));
    } catch (e) {
      if (e.status === 401 || e.status === 404) { location.href = "/apply/login"; return; }
    }
    timer = setTimeout(poll, document.hidden ? POLL_MS * 5 : POLL_MS);
  }
  document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });

  // One XHR per file (fetch has no upload progress), one after another so a phone on a slow
  // line finishes each file instead of starving all of them.
  const uploads = document.getElementById("uploads");
  let queue = Promise.resolve();
  function upload(file) {
    const li = el("li");
    const label = el("span", "", file.name);
    const bar = el("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", file.name + " 上传进度");
    const note = el("span", "note", " 等待上传");
    li.append(label, note, bar);
    uploads.append(li);
    queue = queue.then(() => new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/v1/applications/" + appId + "/documents");
      if (api.csrf) xhr.setRequestHeader("X-CSRF-Token", api.csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = (ev) => {
        if (ev.lengthComputable) bar.value = Math.round((ev.loaded / ev.total) * 100);
        note.textContent = " 上传中 " + bar.value + "%";
      };
      xhr.onload = () => {
        if (xhr.status === 202) {
          try { li.dataset.doc = JSON.parse(xhr.responseText).document_id; } catch (e) { /* shown as uploaded anyway */ }
          bar.value = 100;
          li.classList.add("done");
          note.textContent = " 已上传，正在识别";
        } else {
          let code = "";
          try { code = JSON.parse(xhr.responseText).error.code; } catch (e) { code = ""; }
          li.classList.add("failed");
          note.textContent = " 上传失败：" + (ERRORS[code] || "请稍后重试（" + xhr.status + "）");
        }
        resolve();
        poll();
      };
      xhr.onerror = () => {
        li.classList.add("failed");
        note.textContent = " 上传失败：网络中断，请重试。";
        resolve();
      };
      const form = new FormData();
      form.append("file", file, file.name);
      xhr.send(form);
    }));
  }
  function take(files) { Array.from(files || []).forEach(upload); }

  ["files", "camera"].forEach((id) => {
    const input = document.getElementById(id);
    if (input) input.addEventListener("change", () => { take(input.files); input.value = ""; });
  });
  const zone = document.getElementById("dropzone");
  if (zone) {
    ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (ev) => { ev.preventDefault(); zone.classList.add("over"); }));
    ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, () => zone.classList.remove("over")));
    zone.addEventListener("drop", (ev) => { ev.preventDefault(); take(ev.dataTransfer.files); });
  }

  render(JSON.parse(document.getElementById("progress-data").textContent));
  timer = setTimeout(poll, POLL_MS);
})();
