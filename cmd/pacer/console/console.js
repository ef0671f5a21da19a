/*
 * pacer web console: filters, live updates (Server-Sent Events) and the
 * progress of a confirmed action. The pages work without it: filters are
 * also a GET form, and every action is a plain form POST.
 */
(function () {
	"use strict";

	function applyFilter() {
		var box = document.getElementById("filter");
		var table = document.getElementById("apps");
		if (!box || !table) { return; }
		var text = box.value.toLowerCase();
		var state = (document.getElementById("state") || {}).value || "";
		var rows = table.querySelectorAll("tbody tr[data-app-id]");
		var shown = 0;
		for (var i = 0; i < rows.length; i++) {
			var r = rows[i];
			var ok = (!text || r.getAttribute("data-app-id").toLowerCase().indexOf(text) >= 0 ||
				r.textContent.toLowerCase().indexOf(text) >= 0) &&
				(!state || r.getAttribute("data-status") === state);
			r.classList.toggle("hidden", !ok);
			if (ok) { shown++; }
		}
		var n = document.getElementById("shown");
		if (n) { n.textContent = shown + " shown"; }
	}

	function setupFilters() {
		var box = document.getElementById("filter");
		var sel = document.getElementById("state");
		if (box) { box.addEventListener("input", applyFilter); }
		if (sel) { sel.addEventListener("change", applyFilter); }
		var chips = document.querySelectorAll("a.count[data-state]");
		for (var i = 0; i < chips.length; i++) {
			chips[i].addEventListener("click", function (ev) {
				if (!sel) { return; }
				ev.preventDefault();
				var st = this.getAttribute("data-state");
				sel.value = sel.value === st ? "" : st;
				applyFilter();
			});
		}
		var go = document.getElementById("filter-go");
		if (go) { go.classList.add("hidden"); }
		applyFilter();
	}

	/* The overview's live part, re-rendered by the server (escaped there). */
	function setupLive() {
		var live = document.getElementById("live");
		var mark = document.getElementById("live-state");
		if (!live || !window.EventSource) { return; }
		var es = new EventSource("/events");
		es.addEventListener("overview", function (ev) {
			live.innerHTML = ev.data;
			applyFilter();
			if (mark) { mark.textContent = "live"; mark.classList.add("on"); }
		});
		es.addEventListener("error", function () {
			if (mark) { mark.textContent = "reconnecting"; mark.classList.remove("on"); }
		});
	}

	/* A confirmed action: show that it runs until the server answers. */
	function setupProgress() {
		var forms = document.querySelectorAll("form.confirm");
		for (var i = 0; i < forms.length; i++) {
			forms[i].addEventListener("submit", function () {
				var b = this.querySelector("button[type=submit]");
				var p = document.getElementById("progress");
				if (b) { b.disabled = true; }
				if (p) { p.classList.remove("hidden"); }
			});
		}
	}

	document.addEventListener("DOMContentLoaded", function () {
		setupFilters();
		setupLive();
		setupProgress();
	});
})();
