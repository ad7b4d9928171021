"""`{% capture as name %}…{% endcapture %}`: render a part of a template into a variable instead of the
page, so that a layout can ask whether a page filled a block before writing the markup around it.

base.html uses it for the page header: a page that fills {% block page_title %} gets the title, its
breadcrumbs and its actions in one place; a page that does not gets no empty <h1> (an empty heading
misleads a screen reader). Blocks inside the capture still take part in template inheritance (the
node keeps them in its `nodelist`, where {% extends %} looks for them)."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


class CaptureNode(template.Node):
    def __init__(self, nodelist: template.NodeList, name: str):
        self.nodelist = nodelist
        self.name = name

    def render(self, context: template.Context) -> str:
        # The rendered nodes are already escaped; stripping must not make them plain text again.
        context[self.name] = mark_safe(self.nodelist.render(context).strip())  # noqa: S308
        return ""


@register.tag
def capture(parser: template.base.Parser, token: template.base.Token) -> CaptureNode:
    bits = token.split_contents()
    if len(bits) != 3 or bits[1] != "as":
        raise template.TemplateSyntaxError("Usage: {% capture as name %}…{% endcapture %}")
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, bits[2])
