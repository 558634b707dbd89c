/* Dashboard charts (ECharts, served locally). Reads the figures from the JSON endpoint named in
 * #dashboard[data-api] — no inline script, so it runs under a strict Content-Security-Policy.
 * Clicking a bar, slice or point opens the list of cases behind it. */
(function () {
  "use strict";

  function pct(v) { return v === null || v === undefined ? null : Math.round(v * 10000) / 100; }

  function go(params) {
    var d = params && params.data;
    if (d && d.url) { window.location.href = d.url; }
  }

  function make(el, option, emptyText) {
    if (option.empty) {
      el.classList.add("chart-empty");
      el.textContent = emptyText;
      el.setAttribute("data-rendered", "1");
      return null;
    }
    var chart = window.echarts.init(el);
    chart.setOption(option);
    chart.on("click", go);
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-rendered", "1");
    return chart;
  }

  function pie(rows) {
    if (!rows.length) { return { empty: true }; }
    return {
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { type: "scroll", bottom: 0 },
      series: [{ type: "pie", radius: ["35%", "65%"], data: rows.map(function (r) { return { name: r.label, value: r.received, url: r.url }; }) }]
    };
  }

  function bars(rows, field, percent, limit) {
    rows = rows.filter(function (r) { return r[field] !== null && r[field] !== undefined; }).slice(0, limit || 20);
    if (!rows.length) { return { empty: true }; }
    return {
      tooltip: { trigger: "axis" },
      grid: { left: 8, right: 16, top: 10, bottom: 8, containLabel: true },
      xAxis: { type: "value", max: percent ? 100 : null },
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r.label; }), axisLabel: { width: 160, overflow: "truncate" } },
      series: [{ type: "bar", barMaxWidth: 28, data: rows.map(function (r) { return { value: percent ? pct(r[field]) : r[field], url: r.url }; }),
                 label: { show: true, position: "right", formatter: percent ? "{c}%" : "{c}" } }]
    };
  }

  function rates(rows, labels) {
    rows = rows.slice(0, 20);
    if (!rows.length) { return { empty: true }; }
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 30, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: rows.map(function (r) { return r.label; }), axisLabel: { interval: 0, rotate: 30, width: 110, overflow: "truncate" } },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: [
        { name: labels.timely_acceptance, type: "bar", barMaxWidth: 28, data: rows.map(function (r) { return { value: pct(r.timely_acceptance), url: r.url }; }) },
        { name: labels.on_time_completion, type: "bar", barMaxWidth: 28, data: rows.map(function (r) { return { value: pct(r.on_time_completion), url: r.url }; }) }
      ]
    };
  }

  function trend(t, labels) {
    var pts = t.points;
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 30, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: pts.map(function (p) { return p.period; }) },
      yAxis: [{ type: "value" }, { type: "value", max: 100, axisLabel: { formatter: "{value}%" } }],
      series: [
        { name: labels.received, type: "line", smooth: true, areaStyle: {}, data: pts.map(function (p) { return { value: p.received, url: p.url }; }) },
        { name: labels.timely_acceptance, type: "line", yAxisIndex: 1, data: pts.map(function (p) { return { value: pct(p.timely_acceptance), url: p.url }; }) },
        { name: labels.satisfaction_organ, type: "line", yAxisIndex: 1, data: pts.map(function (p) { return { value: pct(p.satisfaction_organ), url: p.url }; }) }
      ]
    };
  }

  function draw(root, data) {
    var b = data.breakdowns, labels = data.labels;
    var options = {
      trend: trend(data.trend, labels),
      channel: pie(b.channel),
      category: pie(b.category),
      topic: bars(b.topic, "received", false, 15),
      region: bars(b.region, "received", false, 15),
      organ: bars(b.organ, "received", false, 20),
      rates: rates(b.organ, labels),
      satisfaction: bars(b.organ, "satisfaction_organ", true, 20)
    };
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var option = options[el.getAttribute("data-chart")];
      if (option) { make(el, option, root.getAttribute("data-empty")); }
    });
    root.setAttribute("data-loaded", "1");
  }

  function start() {
    var root = document.getElementById("dashboard");
    if (!root || !window.echarts) { return; }
    fetch(root.getAttribute("data-api"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) { draw(root, data); })
      .catch(function () { root.setAttribute("data-error", "1"); root.textContent = root.getAttribute("data-empty"); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
