/* Draws the dashboard charts with Chart.js (static/js/chart.umd.min.js, served locally).
 * The data come from the page's protected tables (json_script "pilot-charts"): a suppressed
 * cell is null and is drawn as a gap, never as a value. The same numbers are in the tables
 * under each chart, which are the accessible version. */
(function () {
  "use strict";
  var PALETTE = ["#0b5cad", "#b3261e", "#1b7a3a", "#6a3d9a", "#a15c00", "#00707a", "#4a4a4a", "#c2185b"];

  function draw() {
    var source = document.getElementById("pilot-charts");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var charts = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = charts[canvas.dataset.chart];
      if (!spec) {
        canvas.parentElement.hidden = true;
        return;
      }
      var type = canvas.dataset.type || "bar";
      new window.Chart(canvas, {
        type: type,
        data: {
          labels: spec.labels,
          datasets: spec.datasets.map(function (dataset, index) {
            var colour = PALETTE[index % PALETTE.length];
            return {
              label: dataset.label,
              data: dataset.data,
              borderColor: colour,
              backgroundColor: colour,
              borderWidth: 2,
              pointRadius: 3,
              spanGaps: false
            };
          })
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          interaction: { mode: "index", intersect: false },
          plugins: {
            legend: { position: "bottom" },
            tooltip: {
              callbacks: {
                label: function (context) {
                  var value = context.raw === null ? "<5" : context.formattedValue;
                  return context.dataset.label + ": " + value;
                }
              }
            }
          },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
