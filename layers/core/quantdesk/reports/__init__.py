"""What a succeeded run leaves behind besides its result: the HTML report and the exports.

The worker writes them at the end of a run (it already holds the result and the analytics
libraries); the API only hands out short-lived links to them, so it never loads a result.
"""
