// The demo page's client: cookie mode. Tokens are HttpOnly cookies the page never sees; the CSRF
// token (not a credential on its own) is kept for this tab in sessionStorage.
"use strict";

const $ = (id) => document.getElementById(id);
const csrf = {
  get: () => sessionStorage.getItem("csrf") || "",
  set: (t) => (t ? sessionStorage.setItem("csrf", t) : sessionStorage.removeItem("csrf")),
};

async function call(method, path, body) {
  const headers = { "X-CSRF-Token": csrf.get() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (_) { /* not JSON */ }
  $("out").textContent = `${method} ${path} -> ${res.status}\n` + (json ? JSON.stringify(json, null, 2) : "");
  return { status: res.status, json };
}

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const r = await call("POST", "/login", {
    username: $("username").value,
    password: $("password").value,
    mode: "cookie",
    device: "browser demo",
  });
  if (r.status === 200) {
    csrf.set(r.json.csrf_token);
    $("status").textContent = "logged in";
  }
});

$("me").addEventListener("click", async () => {
  const r = await call("GET", "/me");
  if (r.status === 200) $("status").textContent = "logged in as " + r.json.sub;
});

$("refresh").addEventListener("click", async () => {
  const r = await call("POST", "/refresh");
  if (r.status === 200) {
    csrf.set(r.json.csrf_token);
    $("status").textContent = "refreshed";
  } else {
    csrf.set("");
    $("status").textContent = "logged out";
  }
});

$("logout").addEventListener("click", async () => {
  const r = await call("POST", "/logout");
  if (r.status === 204) {
    csrf.set("");
    $("status").textContent = "logged out";
  }
});
