"""A trace's story laid out by each renderer, for the tests: what `Trace.to_text()` and friends
do, with Jacobian views passed in as given (the renderers take a story, not a trace)."""

from gradtrace.narrate.story import story
from gradtrace.render import markdown, plain


def render_plain(trace, precision=2, jacobians=None):
    return plain.render_plain(story(trace, precision, jacobians))


def render_markdown(trace, precision=2, jacobians=None):
    return markdown.render_markdown(story(trace, precision, jacobians))


def render_html(trace, precision=2, jacobians=None):
    return markdown.render_html(story(trace, precision, jacobians))


def render_coloured(trace, precision=2, jacobians=None, width=120):
    return plain.render_plain(story(trace, precision, jacobians), width, colour=True)
