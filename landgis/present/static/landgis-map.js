/* landgis map: draws the layers of the JSON block #landgis-data onto the folium map.
 *
 * Every text from the input files reaches the page only as JSON data and is put
 * into the document with textContent, never as HTML, so names such as
 * <img onerror=…> or {{ 6*7 }} show as themselves and run nothing. */
(function () {
  "use strict";
  var source = document.getElementById("landgis-data");
  if (!source || typeof L === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var map = window[data.map];
  if (!map) { return; }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }
  function escapeHtml(text) {  // Leaflet's layer control inserts names as HTML
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function number(value, digits) {
    return Number(value).toLocaleString("en-US",
      {minimumFractionDigits: digits, maximumFractionDigits: digits});
  }
  function shown(key, value) {  // areas travel as m² numbers
    if (key === "area" && typeof value === "number") {
      return number(value, 2) + " 平方米（" + number(value * 15 / 10000, 2) + " 亩）";
    }
    return value;
  }
  function decode(shapes) {  // quantized, delta-coded rings → GeoJSON MultiPolygons
    var ox = shapes.origin[0], oy = shapes.origin[1], q = shapes.quantum;
    return shapes.rings.map(function (polygons) {
      return {type: "MultiPolygon", coordinates: polygons.map(function (rings) {
        return rings.map(function (flat) {
          var out = [], x = 0, y = 0;
          for (var i = 0; i < flat.length; i += 2) {
            x = i === 0 ? flat[0] : x + flat[i];
            y = i === 0 ? flat[1] : y + flat[i + 1];
            out.push([ox + x * q, oy + y * q]);
          }
          return out;
        });
      })};
    });
  }
  function features(spec) {
    var columns = Object.keys(spec.props);
    return decode(spec.shapes).map(function (geometry, i) {
      var props = {};
      columns.forEach(function (c) { props[c] = spec.props[c][i]; });
      return {type: "Feature", geometry: geometry, properties: props};
    });
  }
  function popup(fields, props) {
    var table = el("table", null, "lg-popup");
    fields.forEach(function (field) {
      var value = shown(field[0], props[field[0]]);
      if (value === undefined || value === null || value === "") { return; }
      var row = el("tr");
      row.appendChild(el("th", field[1]));
      row.appendChild(el("td", value));
      table.appendChild(row);
    });
    return table;
  }

  var renderer = data.canvas ? L.canvas({padding: 0.3}) : L.svg();
  var overlays = {};
  var layers = {};
  (data.images || []).forEach(function (image) {  // orthophotos: under every vector layer
    if (String(image.url).indexOf("data:image/png;base64,") !== 0) { return; }
    if (!map.getPane("landgis-images")) { map.createPane("landgis-images").style.zIndex = 250; }
    var layer = L.imageOverlay(image.url, image.bounds, {
      opacity: image.opacity, pane: "landgis-images", interactive: false, className: "lg-image"
    }).addTo(map);
    overlays[escapeHtml(image.label)] = layer;
    layers[image.id] = layer;
  });
  data.layers.forEach(function (spec) {
    var layer = L.geoJSON(features(spec), {
      style: function () { return spec.style; },
      renderer: renderer,
      onEachFeature: function (feature, path) {
        var props = feature.properties || {};
        path.bindPopup(function () { return popup(spec.fields, props); }, {maxWidth: 420});
        if (spec.tooltip) {
          path.bindTooltip(function () {
            var parts = spec.tooltip.map(function (key) { return shown(key, props[key]); })
              .filter(function (v) { return v !== undefined && v !== null && v !== ""; });
            return el("div", parts.join(" · "));
          }, {sticky: true});
        }
      }
    });
    if (spec.show) { layer.addTo(map); }
    overlays[escapeHtml(spec.label)] = layer;
    layers[spec.id] = layer;
  });

  var bases = {};
  data.bases.forEach(function (base, i) {
    var tiles = base.layers.map(function (name) { return window[name]; })
      .filter(function (t) { return t; });
    if (!tiles.length) { return; }
    var group = L.layerGroup(tiles);
    if (i === 0) { group.addTo(map); }
    bases[escapeHtml(base.label)] = group;
  });
  L.control.layers(bases, overlays, {collapsed: true, position: "topright"}).addTo(map);
  L.control.scale({imperial: false}).addTo(map);

  var title = L.control({position: "topleft"});
  title.onAdd = function () {
    var box = el("div", null, "lg-title");
    box.appendChild(el("div", data.title, "lg-title-main"));
    if (data.subtitle) { box.appendChild(el("div", data.subtitle, "lg-title-sub")); }
    L.DomEvent.disableClickPropagation(box);
    return box;
  };
  title.addTo(map);

  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    var box = el("div", null, "lg-legend");
    box.appendChild(el("div", data.legend.title, "lg-legend-title"));
    if (data.legend.totals && data.legend.totals.length) {  // the headline totals
      var sums = el("div", null, "lg-legend-totals");
      data.legend.totals.forEach(function (total) {
        var line = el("div", null, "lg-legend-total");
        line.setAttribute("data-total", total.code);
        line.appendChild(el("span", total.label + "：", "lg-total-label"));
        var value = el("span", total.text, "lg-total-value");
        value.setAttribute("data-value", String(total.value));
        line.appendChild(value);
        sums.appendChild(line);
      });
      box.appendChild(sums);
    }
    var table = el("table");
    var head = el("tr");
    data.legend.columns.forEach(function (c) { head.appendChild(el("th", c)); });
    table.appendChild(head);
    data.legend.rows.forEach(function (row) {
      var tr = el("tr");
      tr.setAttribute("data-category", row.code);
      var swatch = el("td");
      var mark = el("span", null, "lg-swatch lg-swatch-" + row.kind);
      mark.style.borderColor = row.color;
      if (row.kind !== "line") { mark.style.background = row.color; }
      if (row.dash) { mark.style.borderStyle = "dashed"; }
      swatch.appendChild(mark);
      tr.appendChild(swatch);
      tr.appendChild(el("td", row.label, "lg-legend-label"));
      tr.appendChild(el("td", row.count, "lg-legend-count"));
      tr.appendChild(el("td", row.mu, "lg-legend-mu"));
      table.appendChild(tr);
    });
    box.appendChild(table);
    if (data.legend.note) { box.appendChild(el("div", data.legend.note, "lg-legend-note")); }
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  };
  legend.addTo(map);

  if (data.bounds) { map.fitBounds(data.bounds, {padding: [20, 20]}); }
  window.landgis = {map: map, layers: layers, data: data};
})();
