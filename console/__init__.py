"""The staff web application: sign-in, the live queue of cases, Insights and the model server.

It composes the domain packages' logic into pages (`app.py`: the console and
its security rules; `insights.py`: the Insights page; `models.py`: the model
registry the Rasa replicas poll). Nothing below imports it; `tools/console.py`
starts it.
"""
