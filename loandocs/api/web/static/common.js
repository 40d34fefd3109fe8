// Shared by the review and applicant pages: the CSRF token and a JSON fetch helper.
"use strict";
window.loandocs = (function () {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : "";

  // Our API answers errors as {error: {code, message}}; turn them into an Error with .code.
  async function send(method, url, body) {
    const headers = { "Accept": "application/json" };
    if (csrf) headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const resp = await fetch(url, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) {
      const err = new Error((data && data.error && data.error.message) || ("HTTP " + resp.status));
      err.code = data && data.error ? data.error.code : "http_" + resp.status;
      err.status = resp.status;
      throw err;
    }
    return data;
  }
  return { csrf, send };
})();
