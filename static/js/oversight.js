// The oversight dashboard's charts: drawn by ECharts (vendored, static/vendor/echarts) from the page's
// JSON data island (#oversight-data, written by Django's json_script), never from inline script (the
// coming Content-Security-Policy allows none). Each chart's numbers are also the table beside it: the
// "Table" button shows one or the other.
(function () {
  "use strict";

  function number(value) {
    var n = Number(value);
    return isFinite(n) ? n : 0;
  }

  function option(chart) {
    var labels = chart.rows.map(function (row) { return String(row[0]); });
    var series = chart.headers.slice(1);
    if (chart.kind === "pie") {
      return {
        tooltip: { trigger: "item" },
        legend: { bottom: 0, type: "scroll" },
        series: [{
          type: "pie",
          radius: ["35%", "65%"],
          name: series[0],
          data: chart.rows.map(function (row) { return { name: String(row[0]), value: number(row[1]) }; })
        }]
      };
    }
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 8, bottom: 8, top: 32, containLabel: true },
      xAxis: { type: "category", data: labels, axisLabel: { interval: 0, rotate: labels.length > 4 ? 30 : 0, width: 90, overflow: "truncate" } },
      yAxis: { type: "value" },
      series: series.map(function (name, i) {
        return { type: "bar", name: name, data: chart.rows.map(function (row) { return number(row[i + 1]); }) };
      })
    };
  }

  // The report's print button (window.print from a handler here, not an onclick attribute).
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) {
      window.print();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var island = document.getElementById("oversight-data");
    if (!island || !window.echarts) {
      return; // no data, or the library did not load: the tables stay visible
    }
    var data = JSON.parse(island.textContent);
    var drawn = [];
    data.charts.forEach(function (chart) {
      var el = document.querySelector('[data-chart-canvas="' + chart.key + '"]');
      if (!el) {
        return;
      }
      var instance = window.echarts.init(el, null, { renderer: "canvas" });
      instance.setOption(option(chart));
      el.setAttribute("data-drawn", "1");
      drawn.push(instance);
    });
    window.addEventListener("resize", function () {
      drawn.forEach(function (instance) { instance.resize(); });
    });
    document.querySelectorAll("[data-chart-toggle]").forEach(function (button) {
      button.addEventListener("click", function () {
        var key = button.getAttribute("data-chart-toggle");
        var table = document.querySelector('[data-chart-table="' + key + '"]');
        var canvas = document.querySelector('[data-chart-canvas="' + key + '"]');
        var showTable = table.classList.contains("d-none");
        table.classList.toggle("d-none", !showTable);
        if (canvas) {
          canvas.classList.toggle("d-none", showTable);
        }
        button.setAttribute("aria-expanded", String(showTable));
      });
    });
  });
})();
