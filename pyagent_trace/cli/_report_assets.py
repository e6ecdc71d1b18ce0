"""The HTML report's inline CSS and JavaScript: no CDN, no fonts, no fetch, works from disk.

PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

__all__ = ["CSP", "CSS", "JS"]

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
"""Content-Security-Policy: the page may load nothing at all, so it can never call home."""

CSS = """
:root { --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --bg:#f7f8fa; --card:#fff; --accent:#3b5bdb; }
* { box-sizing:border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg);
  background:var(--bg); }
header { background:var(--card); border-bottom:1px solid var(--line); padding:18px 28px; }
h1 { font-size:20px; margin:0 0 4px; }
h2 { font-size:15px; margin:0 0 12px; }
h4 { margin:12px 0 6px; font-size:12px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); }
.sub { color:var(--muted); margin:0; word-break:break-all; }
main { padding:20px 28px 40px; display:grid; gap:20px; max-width:1400px; }
section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:16px 18px; }
.cards { display:flex; flex-wrap:wrap; gap:12px; margin-top:14px; }
.card { border:1px solid var(--line); border-radius:8px; padding:8px 14px; min-width:130px; }
.card .k { color:var(--muted); font-size:12px; }
.card .v { font-size:18px; font-weight:600; font-variant-numeric:tabular-nums; }
.card.warn .v { color:#b54708; }
.wf-row { display:grid; grid-template-columns:170px 1fr 90px; align-items:center; gap:10px; height:26px; }
.wf-row .label { overflow:hidden; text-overflow:ellipsis; white-space:nowrap; color:var(--fg);
  text-decoration:none; }
.wf-row .cost { text-align:right; color:var(--muted); font-variant-numeric:tabular-nums; }
.track { position:relative; height:16px; background:#f2f4f7; border-radius:3px; }
.bar { position:absolute; top:0; height:16px; border-radius:3px; min-width:3px; cursor:pointer; }
.bar:hover, .bar:focus { outline:2px solid var(--fg); }
.axis { display:grid; grid-template-columns:170px 1fr 90px; gap:10px; color:var(--muted); font-size:11px; }
.ticks { position:relative; height:16px; border-top:1px solid var(--line); }
.ticks span { position:absolute; transform:translateX(-50%); top:2px; }
.ticks span:first-child { transform:none; }
.ticks span:last-child { transform:translateX(-100%); }
.charts { display:grid; grid-template-columns:repeat(auto-fit,minmax(380px,1fr)); gap:20px; }
.hbar { display:grid; grid-template-columns:200px 1fr; gap:4px 10px; align-items:center; margin:6px 0; }
.hbar .name { overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
.hbar .fill { display:block; height:14px; border-radius:3px; min-width:2px; }
.hbar .value { grid-column:2; color:var(--muted); font-size:12px; font-variant-numeric:tabular-nums; }
pre { margin:0; white-space:pre-wrap; word-break:break-word; font:12.5px/1.5 ui-monospace,SFMono-Regular,Menlo,
  Consolas,monospace; }
pre.tree { white-space:pre; overflow-x:auto; }
.toolbar { float:right; }
.toolbar button { font:inherit; font-size:12px; border:1px solid var(--line); background:var(--card);
  border-radius:5px; padding:2px 8px; cursor:pointer; margin-left:6px; }
details.call { border:1px solid var(--line); border-radius:6px; margin:6px 0; background:var(--card); }
details.call > summary { cursor:pointer; padding:7px 10px; display:flex; gap:12px; align-items:center;
  flex-wrap:wrap; font-variant-numeric:tabular-nums; }
details.call.selected { outline:2px solid var(--accent); }
details.call .body { padding:4px 14px 12px; border-top:1px solid var(--line); }
.num { color:var(--muted); min-width:28px; }
.swatch { width:10px; height:10px; border-radius:2px; display:inline-block; }
.muted { color:var(--muted); }
.msg { border-left:3px solid var(--line); padding:4px 10px; margin:6px 0; background:#fafbfc; }
.msg .role { font-size:11px; font-weight:600; color:var(--muted); text-transform:uppercase; }
.msg.role-system { border-color:#98a2b3; } .msg.role-user { border-color:#3b5bdb; }
.msg.role-assistant, .msg.response { border-color:#12b76a; }
.empty { color:var(--muted); font-style:italic; }
a.back { color:var(--accent); font-size:12px; text-decoration:none; }
table.tests { border-collapse:collapse; width:100%; font-variant-numeric:tabular-nums; }
table.tests th, table.tests td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line);
  vertical-align:top; }
table.tests th { color:var(--muted); font-size:12px; font-weight:600; }
table.tests .n { text-align:right; white-space:nowrap; }
table.tests td.nodeid { word-break:break-all; }
table.tests a { color:var(--accent); }
details.drift pre { max-height:320px; overflow:auto; }
"""

JS = """
(function () {
  "use strict";
  function openCall(id) {
    var el = document.getElementById(id);
    if (!el) { return; }
    el.open = true;
    var selected = document.querySelectorAll("details.call.selected");
    for (var i = 0; i < selected.length; i++) { selected[i].classList.remove("selected"); }
    el.classList.add("selected");
    el.scrollIntoView({block: "nearest"});
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-call]") : null;
    if (link) {
      event.preventDefault();
      openCall("call-" + link.getAttribute("data-call"));
      return;
    }
    var button = event.target.closest ? event.target.closest("button[data-open]") : null;
    if (button) {
      var open = button.getAttribute("data-open") === "1";
      var calls = document.querySelectorAll("details.call");
      for (var j = 0; j < calls.length; j++) { calls[j].open = open; }
    }
  });
  if (location.hash && location.hash.indexOf("#call-") === 0) { openCall(location.hash.slice(1)); }
  document.documentElement.setAttribute("data-ready", "1");
})();
"""
