// Polls /status/data every second and renders the figures. Text only (no HTML from the server), no external scripts.
"use strict";

const refreshMs = 1000;
const highLagSeconds = 5;

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
}

function setText(id, text) {
  document.getElementById(id).textContent = text;
}

function renderShards(shards) {
  const body = document.querySelector("#shards tbody");
  body.replaceChildren();
  for (const shard of shards) {
    if (shard.replicas.length === 0) {
      const row = body.insertRow();
      cell(row, String(shard.shard));
      cell(row, "none");
      cell(row, "-");
      cell(row, "-");
      continue;
    }
    for (const replica of shard.replicas) {
      const row = body.insertRow();
      cell(row, String(shard.shard));
      cell(row, String(replica.replica));
      if (replica.lagSeconds === null) {
        cell(row, "not measured");
      } else {
        cell(row, replica.lagSeconds.toFixed(1) + " s", replica.lagSeconds >= highLagSeconds ? "lag-high" : "");
      }
      cell(row, replica.inRotation === null ? "-" : (replica.inRotation ? "yes" : "no"));
    }
  }
}

function renderRetries(retries) {
  const body = document.querySelector("#retries tbody");
  body.replaceChildren();
  const reasons = Object.keys(retries.byReason);
  if (reasons.length === 0) {
    const row = body.insertRow();
    cell(row, "none");
    cell(row, "0");
    return;
  }
  for (const reason of reasons) {
    const row = body.insertRow();
    cell(row, reason);
    cell(row, String(retries.byReason[reason]));
  }
}

function render(data) {
  setText("bookings-rate", data.bookings.perSecond.toFixed(1));
  setText("bookings-total", String(data.bookings.total));
  setText("retries-total", String(data.retries.total));
  setText("cache-ratio", data.cache.hitRatio === null ? "none" : (data.cache.hitRatio * 100).toFixed(1) + " %");
  setText("cache-hits", String(data.cache.hits));
  setText("cache-misses", String(data.cache.misses));
  renderShards(data.shards);
  renderRetries(data.retries);
  setText("updated", "Updated " + new Date(data.time).toLocaleTimeString() + ".");
  document.body.dataset.updates = String(Number(document.body.dataset.updates || "0") + 1);
}

async function refresh() {
  const error = document.getElementById("error");
  try {
    const response = await fetch("/status/data", { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!response.ok) throw new Error("status data answered " + response.status);
    render(await response.json());
    error.hidden = true;
  } catch (e) {
    error.textContent = "Could not refresh: " + e.message;
    error.hidden = false;
  } finally {
    setTimeout(refresh, refreshMs);
  }
}

refresh();
