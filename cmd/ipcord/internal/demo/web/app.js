// The dashboard page: polls the dashboard's JSON API (which calls the bot
// over IPC) once a second and renders it. No framework, nothing remote.
"use strict";
let lastEvent = 0;
const $ = (id) => document.getElementById(id);

async function getJSON(path) {
  const r = await fetch(path, { cache: "no-store" });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
}

async function refreshStats() {
  const s = await getJSON("/api/stats");
  $("guilds").textContent = s.guilds;
  $("members").textContent = s.members;
  $("eps").textContent = s.events_per_second.toFixed(1);
  $("total").textContent = s.events_total;
  const tbody = $("shards").querySelector("tbody");
  tbody.replaceChildren();
  for (const sh of s.shards) {
    const tr = document.createElement("tr");
    tr.id = "shard-" + sh.id;
    cell(tr, sh.id);
    cell(tr, sh.state, "state-" + sh.state);
    cell(tr, sh.latency_ms ? sh.latency_ms.toFixed(1) + " ms" : "–");
    cell(tr, sh.seq);
    cell(tr, sh.reconnects);
    cell(tr, sh.guilds);
    tbody.appendChild(tr);
  }
}

async function refreshEvents() {
  const evs = await getJSON("/api/events?after=" + lastEvent);
  const list = $("events");
  for (const e of evs) {
    lastEvent = Math.max(lastEvent, e.n);
    const li = document.createElement("li");
    const t = document.createElement("span");
    t.className = "t";
    t.textContent = e.type;
    li.append(new Date(e.at).toLocaleTimeString() + " shard " + e.shard + " ", t,
      (e.guild ? " [" + e.guild + "]" : "") + (e.summary ? " " + e.summary : ""));
    list.prepend(li);
  }
  while (list.children.length > 100) list.lastChild.remove();
}

async function refreshGuilds() {
  const sel = $("channel");
  if (sel.options.length > 0) return;
  const gs = await getJSON("/api/guilds");
  for (const g of gs) {
    for (const c of g.channels) {
      const o = document.createElement("option");
      o.value = c.id;
      o.textContent = g.name + " #" + c.name;
      sel.appendChild(o);
    }
  }
}

async function tick() {
  try {
    await Promise.all([refreshStats(), refreshEvents(), refreshGuilds()]);
    $("conn").textContent = "live: bot reachable over IPC";
    $("conn").className = "conn ok";
  } catch (err) {
    $("conn").textContent = "bot unreachable: " + err.message;
    $("conn").className = "conn bad";
  }
}

$("send").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const status = $("send-status");
  status.textContent = "sending…";
  try {
    const r = await fetch("/api/send", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ channel_id: $("channel").value, content: $("content").value }),
    });
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || r.statusText);
    status.textContent = "sent message " + body.id;
    $("content").value = "";
  } catch (err) {
    status.textContent = "failed: " + err.message;
  }
});

tick();
setInterval(tick, 1000);
