/*
 * The page of a spreadsheet import or a background export while its job
 * runs (templates/spreadsheets/job.html and export_job.html): every three
 * seconds it asks the server for the same page and updates this one in
 * place, instead of a timed reload (a <meta http-equiv="refresh">, which
 * WCAG 2.2.1 does not allow: the page would be pulled from under whoever is
 * reading it). While the job runs, only the progress bar and its text
 * change, and that text is a polite live region, so a screen reader reads
 * the new count; once it has ended, the region is swapped for the outcome
 * and focus moves to its message. Without JavaScript, the page's "Check
 * again" link reloads it.
 */
(function () {
    "use strict";

    var DELAY = 3000;

    function region(root) {
        return root.querySelector("[data-job-progress]");
    }

    function update(current, fresh) {
        var heading = current.querySelector("h2");
        var freshHeading = fresh.querySelector("h2");
        if (heading && freshHeading) { heading.textContent = freshHeading.textContent; }
        var bar = current.querySelector("progress");
        var freshBar = fresh.querySelector("progress");
        if (bar && freshBar) {
            ["value", "max"].forEach(function (name) {
                if (freshBar.hasAttribute(name)) {
                    bar.setAttribute(name, freshBar.getAttribute(name));
                }
            });
            bar.textContent = freshBar.textContent;
        }
        var text = current.querySelector("[role=status]");
        var freshText = fresh.querySelector("[role=status]");
        if (text && freshText && text.textContent !== freshText.textContent) {
            text.textContent = freshText.textContent;
        }
    }

    function finish(current, fresh) {
        current.replaceWith(fresh);
        var message = fresh.querySelector("[role=status], [role=alert]");
        if (message) {
            message.setAttribute("tabindex", "-1");
            message.focus();
        }
    }

    function check() {
        var current = region(document);
        if (!current) { return; }
        fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
            .then(function (response) {
                if (response.status >= 500) { throw new Error(String(response.status)); }
                // Refused or gone (signed out, no longer allowed): stop.
                return response.ok ? response.text() : null;
            })
            .then(function (html) {
                if (html === null) { return; }
                var fresh = region(new DOMParser().parseFromString(html, "text/html"));
                if (!fresh) { return; }
                if (fresh.getAttribute("data-job-progress") === "running") {
                    update(current, fresh);
                    window.setTimeout(check, DELAY);
                } else {
                    finish(current, fresh);
                }
            })
            .catch(function () {
                // The server is away or failed: try again less often; the
                // "Check again" link is still there.
                window.setTimeout(check, DELAY * 4);
            });
    }

    var start = region(document);
    if (start && start.getAttribute("data-job-progress") === "running" && window.fetch) {
        window.setTimeout(check, DELAY);
    }
})();
