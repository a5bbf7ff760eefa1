// The review trends chart: Chart.js (the same vendored copy as the KPI
// dashboard) draws each agent's average review score per week from
// #qa-trends-boot. The numbers are in the table under the chart.

const bootElement = document.getElementById("qa-trends-boot");
const boot = bootElement ? JSON.parse(bootElement.textContent) : null;

// Okabe-Ito: told apart with the common colour-vision deficiencies.
const COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442"];
const DASHES = [[], [8, 4], [2, 3], [10, 3, 2, 3]];

const percent = (v) => (v === null || v === undefined ? "—" : `${v}%`);

function draw() {
  const canvas = document.getElementById("trend-chart");
  if (!boot || !canvas || typeof window.Chart === "undefined") return;
  const chart = boot.chart;
  window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  window.Chart.defaults.color = "#1f2937";
  new window.Chart(canvas, {
    type: "line",
    data: {
      labels: chart.labels,
      datasets: chart.datasets.map((series, i) => ({
        label: series.label,
        data: series.data,
        borderColor: COLORS[i % COLORS.length],
        backgroundColor: COLORS[i % COLORS.length],
        borderDash: DASHES[Math.floor(i / COLORS.length) % DASHES.length],
        borderWidth: 3,
        pointRadius: 4,
        spanGaps: true,
        fill: false,
      })),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { position: "bottom", labels: { boxWidth: 14, color: "#1f2937" } },
        tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${percent(item.raw)}` } },
      },
      scales: {
        x: { title: { display: true, text: "Week of" }, ticks: { color: "#374151", autoSkip: true }, grid: { display: false } },
        y: { min: 0, max: 100, ticks: { color: "#374151", callback: (v) => `${v}%` } },
      },
    },
  });
  document.body.dataset.charts = "ready";
}

draw();
