/*
 * The little the public pages do with JavaScript; every page works without
 * it. Kept in a file, not inline, so the Content Security Policy allows no
 * inline script (website/settings/base.py, CONTENT_SECURITY_POLICY).
 */
(function () {
    "use strict";

    /* A form's error summary: autofocus moves focus to it without
     * JavaScript; this makes a link to a field focus that field, which
     * following the #anchor alone does not. */
    function enhanceErrorSummary() {
        var summary = document.getElementById("error-summary");
        if (!summary) { return; }
        if (document.activeElement !== summary) { summary.focus(); }
        summary.addEventListener("click", function (event) {
            var link = event.target.closest("a[href^='#']");
            var field = link && document.getElementById(link.hash.slice(1));
            if (!field) { return; }
            event.preventDefault();
            var label = document.querySelector("label[for='" + field.id + "']");
            (label || field).scrollIntoView();
            field.focus({preventScroll: true});
        });
    }

    /* "Go back to the form" goes back in history where it can, which keeps
     * what was typed; without JavaScript the link opens the form afresh. */
    function enhanceBackLinks() {
        document.addEventListener("click", function (event) {
            var link = event.target.closest("a[data-history-back]");
            if (link && window.history.length > 1) {
                event.preventDefault();
                window.history.back();
            }
        });
    }

    enhanceErrorSummary();
    enhanceBackLinks();
}());
