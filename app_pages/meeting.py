"""Meeting mode: the monthly meeting's slides one at a time, as of one month fixed at the start."""

from ita_dashboard.ui import common, meeting_views

ctx = common.page_context()
meeting_views.show(ctx)
