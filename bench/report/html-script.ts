// The script inside report.html that turns chart specs into chart.js charts.
//
// It is plain browser JavaScript kept as a string, because it runs in the
// reader's browser, not in Node: the compiler checks the code that writes the
// page, and the browser test (html.browser.test.ts) checks this code by
// running it in Chromium. It reads the specs from a JSON script element,
// draws every chart, and wires two controls: a latency-axis switch (log or
// linear) and a checkbox per model that shows or hides that model in every
// chart at once. Clicking a legend entry still hides one line, as chart.js
// does by default. When it is done, it sets data-charts-ready on <html>, so a
// test (or a curious reader with the console open) knows the drawing is over.

export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var specs = JSON.parse(document.getElementById('chart-data').textContent);
  var root = document.documentElement;
  if (typeof Chart === 'undefined') {
    root.setAttribute('data-charts-ready', 'failed');
    document.getElementById('chart-error').textContent = 'chart.js did not load, so the charts cannot be drawn.';
    return;
  }

  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    if (v === 0) return '0';
    var r = Number(Number(v).toPrecision(3));
    var digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(r))));
    return r.toLocaleString('en-US', { maximumFractionDigits: digits });
  }

  // On a log axis, label only 1, 2 and 5 times a power of ten, so it stays legible.
  function logTick(value) {
    var v = Number(value);
    var mantissa = v / Math.pow(10, Math.floor(Math.log10(v)));
    var shown = [1, 2, 5].some(function (m) { return Math.abs(mantissa - m) < 1e-6; });
    return shown ? fmt(v) : '';
  }

  function ninesLabel(v) {
    return (100 * (1 - Math.pow(10, -v))).toFixed(Math.max(0, Math.round(v) - 2)) + '%';
  }

  function latencyAxis(spec, mode) {
    if (mode === 'linear') {
      return { type: 'linear', beginAtZero: true, title: { display: true, text: spec.y.label } };
    }
    return { type: 'logarithmic', title: { display: true, text: spec.y.label + ' (log scale)' }, ticks: { callback: logTick } };
  }

  function maxX(spec) {
    var m = 0;
    spec.datasets.forEach(function (d) { d.points.forEach(function (p) { if (p && p.x > m) m = p.x; }); });
    return m;
  }

  function xAxis(spec) {
    var title = { display: true, text: spec.x.label };
    if (spec.x.kind === 'connections') {
      var ticks = spec.x.ticks;
      return {
        type: 'logarithmic', title: title,
        min: ticks[0] / 1.5, max: ticks[ticks.length - 1] * 1.5,
        afterBuildTicks: function (axis) { axis.ticks = ticks.map(function (v) { return { value: v }; }); },
        ticks: { callback: function (v) { return String(v); } }
      };
    }
    if (spec.x.kind === 'nines') {
      var top = Math.max(3, Math.ceil(maxX(spec)));
      return {
        type: 'linear', min: 0, max: top, title: title,
        afterBuildTicks: function (axis) {
          var t = [];
          for (var i = 0; i <= top; i++) t.push({ value: i });
          axis.ticks = t;
        },
        ticks: { callback: function (v) { return ninesLabel(Number(v)); } }
      };
    }
    if (spec.x.kind === 'rate') return { type: 'linear', beginAtZero: true, title: title };
    return { type: 'category', title: title };
  }

  function tooltipTitle(spec, items) {
    if (!items.length) return '';
    var raw = items[0].raw;
    if (spec.x.kind === 'category') return items[0].label;
    var x = raw && typeof raw === 'object' ? raw.x : items[0].parsed.x;
    if (spec.x.kind === 'connections') return x + (x === 1 ? ' connection' : ' connections');
    if (spec.x.kind === 'nines') return 'p' + ninesLabel(x).replace('%', '');
    return fmt(x) + ' req/s offered';
  }

  function tooltipLabel(spec, item) {
    var raw = item.raw;
    var y = raw !== null && typeof raw === 'object' ? raw.y : raw;
    var text = item.dataset.label + ': ' + fmt(y) + (spec.y.unit ? ' ' + spec.y.unit : '');
    if (raw && typeof raw === 'object' && raw.min !== undefined && raw.max !== undefined && raw.min !== raw.max) {
      text += ' (repeats ' + fmt(raw.min) + '–' + fmt(raw.max) + ')';
    }
    return text;
  }

  function configFor(spec, mode) {
    var datasets = spec.datasets.map(function (d) {
      return {
        label: d.label,
        series: d.series,
        data: d.points,
        borderColor: d.colour,
        backgroundColor: d.colour,
        borderDash: d.dashed ? [6, 4] : [],
        pointRadius: spec.x.kind === 'nines' ? 0 : 3,
        pointHoverRadius: 5,
        spanGaps: false
      };
    });
    return {
      type: spec.type,
      data: spec.type === 'bar' ? { labels: spec.labels, datasets: datasets } : { datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: true,
        aspectRatio: 1.8,
        interaction: { mode: 'nearest', intersect: false },
        plugins: {
          title: { display: true, text: spec.title, font: { size: 15 } },
          subtitle: { display: true, text: spec.subtitle, padding: { bottom: 8 } },
          legend: { position: 'right' },
          tooltip: {
            callbacks: {
              title: function (items) { return tooltipTitle(spec, items); },
              label: function (item) { return tooltipLabel(spec, item); }
            }
          }
        },
        scales: {
          x: xAxis(spec),
          y: spec.y.kind === 'latency'
            ? latencyAxis(spec, mode)
            : { type: 'linear', beginAtZero: true, title: { display: true, text: spec.y.label } }
        }
      }
    };
  }

  var axisSelect = document.getElementById('latency-axis');
  var charts = specs.map(function (spec) {
    var canvas = document.getElementById(spec.id);
    return { spec: spec, chart: new Chart(canvas, configFor(spec, axisSelect.value)) };
  });

  axisSelect.addEventListener('change', function () {
    charts.forEach(function (c) {
      if (c.spec.y.kind !== 'latency') return;
      c.chart.options.scales.y = latencyAxis(c.spec, axisSelect.value);
      c.chart.update();
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll('input[data-series]'), function (box) {
    box.addEventListener('change', function () {
      var series = box.getAttribute('data-series');
      charts.forEach(function (c) {
        c.chart.data.datasets.forEach(function (d, i) {
          if (d.series === series) c.chart.setDatasetVisibility(i, box.checked);
        });
        c.chart.update();
      });
    });
  });

  window.labReport = { charts: charts.map(function (c) { return c.chart; }), specs: specs };
  root.setAttribute('data-charts-ready', 'true');
})();
`;
