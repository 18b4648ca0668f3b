// Filters, sorting and details for the results table. The state lives in the URL fragment
// (#status=fail&area=numbers&severity=critical&q=agent2&sort=severity), so a filtered view can
// be shared as a link; without this script every result and detail is shown.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  var table = document.getElementById("results");
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody.result"));
  var empty = table.querySelector("tbody.empty");
  var count = document.getElementById("shown-count");
  var filters = {
    status: document.getElementById("f-status"),
    area: document.getElementById("f-area"),
    severity: document.getElementById("f-severity"),
    q: document.getElementById("f-text")
  };
  var FINDING = { fail: true, missing: true, unknown: true };
  var RANKED = { status: true, severity: true, area: true };
  var sort = { key: "", dir: 1 };

  function text(el) {
    return (el.textContent || "").replace(/\s+/g, " ").trim();
  }

  function matches(row, status, area, severity, q) {
    var suppressed = row.dataset.suppressed === "true";
    if (status === "attention") {
      if (suppressed || !FINDING[row.dataset.status]) return false;
    } else if (status === "suppressed") {
      if (!suppressed) return false;
    } else if (status && row.dataset.status !== status) {
      return false;
    }
    if (area && row.dataset.area !== area) return false;
    if (severity && row.dataset.severity !== severity) return false;
    if (q && text(row).toLowerCase().indexOf(q) < 0) return false;
    return true;
  }

  function apply() {
    var status = filters.status.value;
    var area = filters.area.value;
    var severity = filters.severity.value;
    var q = filters.q.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var ok = matches(row, status, area, severity, q);
      row.hidden = !ok;
      if (ok) shown += 1;
    });
    empty.hidden = shown !== 0;
    count.textContent = shown === rows.length
      ? "Showing all " + rows.length + " results"
      : "Showing " + shown + " of " + rows.length + " results";
    count.dataset.shown = String(shown);
    document.querySelectorAll("[data-filter-status]").forEach(function (card) {
      card.setAttribute("aria-pressed", String(card.dataset.filterStatus === status));
    });
    save();
  }

  function key(row, name) {
    if (RANKED[name]) return Number(row.dataset["k" + name.charAt(0).toUpperCase() + name.slice(1)]);
    return text(row.querySelector('tr.main td[data-col="' + name + '"]')).toLowerCase();
  }

  function order(name, dir) {
    sort = { key: name, dir: dir };
    var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
    rows.sort(function (a, b) {
      var c = 0;
      if (name) {
        var x = key(a, name), y = key(b, name);
        c = typeof x === "number" ? x - y : collator.compare(x, y);
      }
      return c * dir || Number(a.dataset.index) - Number(b.dataset.index);
    });
    rows.forEach(function (row) { table.insertBefore(row, empty); });
    table.querySelectorAll("thead th[data-sort]").forEach(function (th) {
      if (th.dataset.sort === name) {
        th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      } else {
        th.removeAttribute("aria-sort");
      }
    });
  }

  function setOpen(row, open) {
    row.classList.toggle("open", open);
    row.querySelector("button.toggle").setAttribute("aria-expanded", String(open));
  }

  function save() {
    var params = new URLSearchParams();
    Object.keys(filters).forEach(function (name) {
      var value = filters[name].value.trim();
      if (value) params.set(name, value);
    });
    if (sort.key) params.set("sort", sort.key + (sort.dir < 0 ? ":desc" : ""));
    var hash = params.toString();
    if (hash === location.hash.replace(/^#/, "")) return;
    try {
      history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
    } catch (e) {
      // Some browsers refuse history changes for file: pages; the view still works.
    }
  }

  function load() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    Object.keys(filters).forEach(function (name) {
      var el = filters[name];
      var value = params.get(name) || "";
      if (el.tagName === "SELECT" && !el.querySelector('option[value="' + CSS.escape(value) + '"]')) {
        value = "";
      }
      el.value = value;
    });
    var wanted = (params.get("sort") || "").split(":");
    var valid = table.querySelector('thead th[data-sort="' + CSS.escape(wanted[0]) + '"]');
    order(valid ? wanted[0] : "", wanted[1] === "desc" ? -1 : 1);
  }

  Object.keys(filters).forEach(function (name) {
    filters[name].addEventListener(name === "q" ? "input" : "change", apply);
  });

  document.querySelectorAll("[data-filter-status]").forEach(function (card) {
    card.addEventListener("click", function () {
      var value = card.dataset.filterStatus;
      filters.status.value = filters.status.value === value ? "" : value;
      apply();
    });
  });

  document.querySelectorAll("[data-filter-area]").forEach(function (button) {
    button.addEventListener("click", function () {
      filters.area.value = button.dataset.filterArea;
      apply();
      table.scrollIntoView({ behavior: "smooth", block: "start" });
    });
  });

  table.querySelectorAll("thead th[data-sort] button").forEach(function (button) {
    button.addEventListener("click", function () {
      var name = button.parentElement.dataset.sort;
      if (sort.key !== name) {
        order(name, 1);
      } else if (sort.dir > 0) {
        order(name, -1);
      } else {
        order("", 1);
      }
      save();
    });
  });

  table.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest("a") || (window.getSelection && String(window.getSelection()))) return;
    var main = target.closest("tbody.result tr.main");
    if (!main) return;
    var row = main.parentElement;
    setOpen(row, !row.classList.contains("open"));
  });

  document.getElementById("expand-all").addEventListener("click", function () {
    rows.forEach(function (row) { if (!row.hidden) setOpen(row, true); });
  });
  document.getElementById("collapse-all").addEventListener("click", function () {
    rows.forEach(function (row) { setOpen(row, false); });
  });
  document.getElementById("reset").addEventListener("click", function () {
    Object.keys(filters).forEach(function (name) { filters[name].value = ""; });
    order("", 1);
    apply();
  });

  // A hop in a call-path diagram links to its result (#result-N): show that row, whatever
  // the filters, open it and bring it into view.
  function reveal() {
    var match = /^#(result-\d+)$/.exec(location.hash);
    var row = match && document.getElementById(match[1]);
    if (!row) return false;
    Object.keys(filters).forEach(function (name) { filters[name].value = ""; });
    apply();
    setOpen(row, true);
    row.scrollIntoView({ block: "start" });
    return true;
  }

  window.addEventListener("hashchange", function () {
    if (reveal()) return;
    load();
    apply();
  });

  if (!reveal()) {
    load();
    apply();
  }
  root.dataset.ready = "true";
})();
