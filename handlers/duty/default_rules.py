"""The built-in scoring rules (默认履职评分规则), used when ``[duty] rules_file`` is empty.

Written in the rules file's own format and read by the same loader, so that it obeys the
same validation as an office's file (see :mod:`handlers.duty.rules`): 100 points, 优秀 ≥ 90,
称职 ≥ 60, 基本称职 ≥ 40, and at least one opinion report a year.
"""

DEFAULT_RULES = """
name = "默认履职评分规则"
max_total = 100
unmet_grade = "基本称职"

[[items]]
label = "学习打卡"
fact = "checkins"
points = 0.5
cap = 20

[[items]]
label = "社情民意提交"
fact = "reports_submitted"
points = 5
cap = 20

[[items]]
label = "社情民意采用"
fact = "reports_adopted"
points = 5
cap = 20

[[items]]
label = "获领导批示"
fact = "reports_endorsed"
points = 5
cap = 10

[[items]]
label = "会议出席"
fact = "meetings_attended"
points = 3
cap = 15

[[items]]
label = "通知确认"
fact = "notices_acked"
points = 0.5
cap = 5

[[items]]
label = "督办按时完成"
fact = "tasks_on_time"
points = 2
cap = 10

[[items]]
label = "会议未回执"
fact = "meetings_missed"
points = -2
cap = 10

[[requirements]]
label = "全年至少报送1篇社情民意"
fact = "reports_submitted"
at_least = 1

[[grades]]
name = "优秀"
at_least = 90

[[grades]]
name = "称职"
at_least = 60

[[grades]]
name = "基本称职"
at_least = 40

[[grades]]
name = "不称职"
at_least = 0
"""
