// The KPI dashboard's charts: Chart.js (from npm, served as a static file)
// draws the series the page carries in #kpi-boot. Every chart has its
// numbers in a table next to it; the canvas is a picture of that table.

const bootElement = document.getElementById("kpi-boot");
const boot = bootElement ? JSON.parse(bootElement.textContent) : null;

// Okabe-Ito: told apart with the common colour-vision deficiencies.
const COLORS = {
  voice: "#0072B2", sms: "#E69F00", web: "#009E73", api: "#CC79A7",
  calls: "#0072B2", messages: "#E69F00",
  service_level: "#0072B2", target: "#D55E00",
  abandonment_rate: "#CC79A7",
  agents_needed: "#D55E00", agents_scheduled: "#56B4E9",
};

export function percent(share) {
  if (share === null || share === undefined) return "—";
  const text = (share * 100).toFixed(1);
  return (text.endsWith(".0") ? text.slice(0, -2) : text) + "%";
}

function count(n) {
  return n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US");
}

const FORMATS = { percent, count, agents: count };

function baseOptions(chart) {
  const format = FORMATS[chart.kind] || count;
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: "index", intersect: false },
    plugins: {
      legend: { position: "bottom", labels: { boxWidth: 14, color: "#1f2937" } },
      tooltip: {
        callbacks: {
          label: (item) => `${item.dataset.label}: ${item.dataset.isTarget ? percent(item.raw) : format(item.raw)}`,
        },
      },
    },
    scales: {
      x: { ticks: { color: "#374151", maxRotation: 0, autoSkip: true }, grid: { display: false } },
      y: {
        beginAtZero: true,
        ticks: {
          color: "#374151",
          precision: 0,
          callback: chart.kind === "percent" ? (v) => percent(v) : (v) => count(v),
        },
      },
    },
  };
}

function datasets(chart, style) {
  return chart.datasets.map((series) => ({
    label: series.label,
    data: series.data,
    backgroundColor: COLORS[series.key] || "#4b5563",
    borderColor: COLORS[series.key] || "#4b5563",
    ...style(series),
  }));
}

const BUILD = {
  volume(chart) {
    const options = baseOptions(chart);
    options.scales.x.stacked = true;
    options.scales.y.stacked = true;
    return { type: "bar", data: { labels: chart.labels, datasets: datasets(chart, () => ({})) }, options };
  },
  wait(chart) {
    return { type: "bar", data: { labels: chart.labels, datasets: datasets(chart, () => ({})) }, options: baseOptions(chart) };
  },
  service_level(chart) {
    const options = baseOptions(chart);
    options.scales.y.max = 1;
    options.spanGaps = true;
    const series = datasets(chart, () => ({ borderWidth: 3, pointRadius: 4, tension: 0, fill: false }));
    series.push({
      label: `Target ${percent(chart.target)}`,
      data: chart.labels.map(() => chart.target),
      borderColor: COLORS.target,
      backgroundColor: COLORS.target,
      borderDash: [8, 5],
      borderWidth: 2,
      pointRadius: 0,
      fill: false,
      isTarget: true,
    });
    return { type: "line", data: { labels: chart.labels, datasets: series }, options };
  },
  abandonment(chart) {
    const options = baseOptions(chart);
    options.scales.x.ticks.maxTicksLimit = 12;
    return { type: "bar", data: { labels: chart.labels, datasets: datasets(chart, () => ({})) }, options };
  },
  staffing(chart) {
    const options = baseOptions(chart);
    options.scales.y.ticks.stepSize = 1;
    options.scales.x.ticks.maxTicksLimit = 12;
    const series = datasets(chart, (s) => (s.key === "agents_needed"
      ? { type: "line", borderWidth: 3, pointRadius: 3, stepped: "middle", order: 0 }
      : { type: "bar", order: 1 }));
    return { type: "bar", data: { labels: chart.labels, datasets: series }, options };
  },
};

function draw() {
  if (!boot || typeof window.Chart === "undefined") return;
  window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  window.Chart.defaults.font.size = 13;
  window.Chart.defaults.color = "#1f2937";
  for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
    const name = canvas.dataset.chart;
    const chart = boot.charts[name];
    if (!chart || !BUILD[name]) continue;
    new window.Chart(canvas, BUILD[name](chart));
  }
  document.body.dataset.charts = "ready";
}

draw();
