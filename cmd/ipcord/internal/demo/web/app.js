// The operator console: polls the dashboard's JSON API (which calls the bot
// over IPC) once a second and draws it, charts included. No framework,
// nothing remote. To extend it, add a panel to `panels` or a button to
// `actions` below; the page builds itself from those two lists.
"use strict";
const $ = (id) => document.getElementById(id);
const COLORS = ["#5865f2", "#eb459e", "#1a7f37", "#b35900", "#0e7490", "#6b21a8"];
let config = { fake: false, faults: [] };
let lastEvent = 0;
let lastNotice = 0;

async function getJSON(path) {
  const r = await fetch(path, { cache: "no-store" });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return { body, response: r };
}

async function postJSON(path, data) {
  const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

// Chart draws named series of the last `keep` samples as lines on a canvas.
class Chart {
  constructor(canvas, unit, keep = 60) {
    this.canvas = canvas; this.unit = unit; this.keep = keep; this.series = new Map();
  }
  push(name, value) {
    if (!this.series.has(name)) this.series.set(name, []);
    const s = this.series.get(name);
    s.push(value);
    if (s.length > this.keep) s.shift();
  }
  draw() {
    const c = this.canvas;
    if (c.clientWidth && c.width !== c.clientWidth) c.width = c.clientWidth; // follow the layout, unstretched
    const g = c.getContext("2d"), w = c.width, h = c.height, top = 16, bottom = h - 4;
    const all = [...this.series.values()].flat().filter(Number.isFinite);
    const hi = Math.max(1e-9, ...all) * 1.15;
    g.clearRect(0, 0, w, h);
    g.strokeStyle = "#e3e5e8"; g.fillStyle = "#777"; g.font = "10px system-ui";
    for (const f of [0, 0.5, 1]) {
      const y = bottom - f * (bottom - top);
      g.beginPath(); g.moveTo(0, y); g.lineTo(w, y); g.stroke();
      if (f > 0) g.fillText(fmt(hi * f) + " " + this.unit, 2, y - 2);
    }
    let i = 0, legend = w;
    for (const [name, s] of this.series) {
      const color = COLORS[i++ % COLORS.length];
      g.strokeStyle = color; g.lineWidth = 1.5; g.beginPath();
      s.forEach((v, k) => {
        const x = w - (s.length - 1 - k) * (w / (this.keep - 1)), y = bottom - (Number.isFinite(v) ? v : 0) / hi * (bottom - top);
        k ? g.lineTo(x, y) : g.moveTo(x, y);
      });
      g.stroke(); g.lineWidth = 1;
      const label = name + " " + fmt(s[s.length - 1]);
      legend -= g.measureText(label).width + 10;
      g.fillStyle = color; g.fillText(label, legend, 10);
    }
    c.dataset.points = Math.max(0, ...[...this.series.values()].map((s) => s.length));
  }
}

function fmt(v) {
  if (!Number.isFinite(v)) return "–";
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function duration(s) {
  s = Math.floor(s);
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${s % 60}s` : `${s}s`;
}

function row(tbody, id, cells) {
  const tr = document.createElement("tr");
  if (id) tr.id = id;
  for (const [text, cls, title] of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    if (title) td.title = title;
    tr.appendChild(td);
  }
  tbody.appendChild(tr);
}

function feedItem(list, at, cls, ...parts) {
  const li = document.createElement("li");
  if (cls) li.className = cls;
  li.append(new Date(at).toLocaleTimeString() + " ", ...parts);
  list.prepend(li);
  while (list.children.length > 100) list.lastChild.remove();
}

function tag(text) {
  const t = document.createElement("span");
  t.className = "t";
  t.textContent = text;
  return t;
}

// Panels: each draws one part of the page from a tick's data
// ({stats, rtt}); a new panel is one entry here and its markup in
// index.html.
const charts = {};
let prevRoutes = null;
const panels = [
  function cards({ stats: s }) {
    $("guilds").textContent = s.guilds;
    $("members").textContent = s.members;
    $("eps").textContent = s.events_per_second.toFixed(1);
    $("total").textContent = s.events_total;
    $("answered").textContent = s.interactions_answered;
    $("pings").textContent = s.pings_answered;
    $("uptime").textContent = duration(s.uptime_seconds);
  },
  function eventsChart({ stats: s }) {
    charts.events ||= new Chart($("chart-events"), "/s");
    charts.events.push("events/s", s.events_per_second);
    charts.events.draw();
  },
  function heartbeatChart({ stats: s }) {
    charts.heartbeat ||= new Chart($("chart-heartbeat"), "ms");
    for (const sh of s.shards) charts.heartbeat.push("shard " + sh.id, sh.latency_ms);
    charts.heartbeat.draw();
  },
  function ipcChart({ stats: s, rtt }) {
    charts.ipc ||= new Chart($("chart-ipc"), "ms");
    charts.ipc.push("round trip", rtt);
    // The handlers' mean over the last second, from the metrics' sums.
    const calls = s.ipc_routes.reduce((a, r) => a + r.calls, 0), sum = s.ipc_routes.reduce((a, r) => a + r.sum_ms, 0);
    if (prevRoutes) charts.ipc.push("handler", calls > prevRoutes.calls ? (sum - prevRoutes.sum) / (calls - prevRoutes.calls) : 0);
    prevRoutes = { calls, sum };
    charts.ipc.draw();
  },
  function shards({ stats: s }) {
    const tbody = $("shards").querySelector("tbody");
    tbody.replaceChildren();
    const sel = $("fault-shard");
    for (const sh of s.shards) {
      const moved = s.deploy && !s.deploy.done && sh.generation === s.deploy.generation;
      row(tbody, "shard-" + sh.id, [
        [sh.id], [sh.generation ?? "–", moved ? "gen moved" : "gen"], [sh.state, "state-" + sh.state], [sh.latency_ms ? sh.latency_ms.toFixed(1) + " ms" : "–"],
        [sh.last_ack_age_ms >= 0 ? (sh.last_ack_age_ms / 1000).toFixed(1) + " s ago" : "–", "ack"],
        [sh.last_close_code || "–", "close"], [sh.identifies, "identifies"], [sh.resumes, "resumes"], [sh.reconnects, "reconnects"],
        [sh.seq], [sh.handled ?? "–", "handled"], [sh.gaps ?? "–", sh.gaps ? "lost err" : "lost"], [sh.repeats ?? "–", sh.repeats ? "repeated err" : "repeated"],
        [sh.guilds], [sh.last_error || "", "err", sh.last_error],
      ]);
      if (![...sel.options].some((o) => o.value === String(sh.id))) sel.add(new Option(String(sh.id), String(sh.id)));
    }
  },
  function routes({ stats: s }) {
    const tbody = $("routes").querySelector("tbody");
    tbody.replaceChildren();
    for (const r of s.ipc_routes) {
      row(tbody, "route-" + r.route, [[r.route], [r.calls], [r.errors, r.errors ? "err" : ""],
        [r.calls ? (r.sum_ms / r.calls).toFixed(3) + " ms" : "–"], [r.p99_ms < 0 ? "> 10 s" : r.p99_ms + " ms"]]);
    }
  },
  function deploy({ stats: s }) {
    const d = s.deploy;
    $("deploy").disabled = Boolean(d && !d.done);
    if (!d) return;
    const moved = `generation ${d.generation}: ${d.moved} of ${d.shards} shards moved from generation ${d.from}`;
    const counts = `${d.lost} lost, ${d.repeated} repeated, ${d.identifies} IDENTIFY`;
    $("deploy-status").textContent = d.error ? `${moved}; failed: ${d.error}` :
      d.done ? `${moved} in ${(d.took_ms / 1000).toFixed(1)} s (longest deaf ${d.longest_deaf_ms.toFixed(1)} ms): ${counts}` : `${moved}… ${counts}`;
    $("deploy-status").className = "hint " + (d.error || d.lost || d.repeated || d.identifies ? "level-error" : d.done ? "level-recovered" : "level-action");
  },
  function errors({ stats: s }) {
    for (const n of s.errors) {
      if (n.n <= lastNotice) continue;
      lastNotice = n.n;
      feedItem($("errors"), n.at, "level-" + n.level, tag(n.source), " " + n.text);
    }
  },
];

// Actions: the console's buttons. A new one is an entry here; `fake` ones
// show only when the dashboard controls fake Discord.
const shard = () => Number($("fault-shard").value || 0);
const actions = [
  { id: "fault-reconnect", label: "reconnect", title: "the gateway sends op 7 RECONNECT: the shard resumes", fake: true, run: () => fault("reconnect") },
  { id: "fault-zombie", label: "zombie", title: "the connection goes silent, heartbeat ACKs included: the shard finds it dead and resumes", fake: true, run: () => fault("zombie") },
  { id: "fault-invalid-session", label: "invalid session", title: "op 9 INVALID_SESSION d:false: the shard identifies a new session", fake: true, run: () => fault("invalid_session") },
  { id: "fault-cut", label: "cut a frame", title: "the connection drops halfway through a frame: the shard resumes", fake: true, run: () => fault("cut_mid_frame") },
];

async function fault(name) {
  const n = shard();
  await postJSON("/api/fault", { name, shard: n });
  return `injected ${name} on shard ${n}`;
}

function buildActions() {
  const box = $("actions");
  for (const a of actions) {
    if (a.fake && !config.fake) continue;
    const b = document.createElement("button");
    b.id = a.id; b.type = "button"; b.textContent = a.label; b.title = a.title;
    b.addEventListener("click", async () => {
      const status = $("action-status");
      try {
        const said = await a.run();
        status.textContent = said;
        feedItem($("errors"), Date.now(), "level-action", tag("console"), " " + said);
      } catch (err) {
        status.textContent = a.label + " failed: " + err.message;
      }
    });
    box.appendChild(b);
  }
  if (!config.fake) box.closest("section").hidden = true;
}

async function refreshEvents() {
  const { body: evs } = await getJSON("/api/events?after=" + lastEvent);
  for (const e of evs) {
    lastEvent = Math.max(lastEvent, e.n);
    feedItem($("events"), e.at, "", `shard ${e.shard} `, tag(e.type), (e.guild ? " [" + e.guild + "]" : "") + (e.summary ? " " + e.summary : ""));
  }
}

async function refreshGuilds() {
  const sel = $("channel");
  if (sel.options.length > 0) return;
  const { body: gs } = await getJSON("/api/guilds");
  for (const g of gs) for (const c of g.channels) sel.add(new Option(g.name + " #" + c.name, c.id));
}

async function tick() {
  try {
    const { body: stats, response } = await getJSON("/api/stats");
    const rtt = Number((/ipc;dur=([0-9.]+)/.exec(response.headers.get("Server-Timing") || "") || [])[1]);
    for (const p of panels) p({ stats, rtt });
    await Promise.all([refreshEvents(), refreshGuilds()]);
    $("conn").textContent = "live: bot reachable over IPC";
    $("conn").className = "conn ok";
  } catch (err) {
    $("conn").textContent = "bot unreachable: " + err.message;
    $("conn").className = "conn bad";
  }
}

$("deploy").addEventListener("click", async () => {
  try {
    const { generation } = await postJSON("/api/deploy", {});
    $("deploy-status").textContent = `deploying generation ${generation}…`;
  } catch (err) {
    $("deploy-status").textContent = "deploy failed: " + err.message;
  }
});

$("send").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const status = $("send-status");
  status.textContent = "sending…";
  const asUser = $("as").value === "user";
  try {
    const body = await postJSON(asUser ? "/api/say" : "/api/send", { channel_id: $("channel").value, content: $("content").value });
    status.textContent = (asUser ? "a sample user sent message " : "sent message ") + body.id;
    $("content").value = "";
  } catch (err) {
    status.textContent = "failed: " + err.message;
  }
});

(async () => {
  try {
    config = (await getJSON("/api/config")).body;
  } catch (err) { /* the page still shows what it can */ }
  if (!config.fake) {
    $("as").value = "bot";
    $("as").disabled = true;
  }
  buildActions();
  tick();
  setInterval(tick, 1000);
})();
