"""50 headteachers and executives browsing and searching: `scripts/loadtest/run.sh` drives it headless."""

from __future__ import annotations

import os
import random
import re

from locust import HttpUser, between, task

PASSWORD = "load test passphrase 2026"  # noqa: S105 - matches scripts/loadtest/seed.py
QUERIES = ["phonics", "maths mastery", "ehcp", "attendance", "safeguarding", "mentoring", "science", "semh",
           "reading fluency", "governance", "curriculum", "pupil premium", "eyfs", "literacy"]
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
_next = iter(range(10_000))


class Browser(HttpUser):
    # People read a page before the next click: 2 to 6 seconds (WAIT_MIN and WAIT_MAX change it).
    wait_time = between(float(os.environ.get("WAIT_MIN", "2")), float(os.environ.get("WAIT_MAX", "6")))

    def on_start(self):
        n = next(_next)
        role = random.choice(["headteacher", "executive", "ceo"])
        page = self.client.get("/login", name="/login")
        token = CSRF.search(page.text).group(1)
        self.client.post("/login", {"email": f"{role}{n % 20}@load.example", "password": PASSWORD,
                                    "csrf_token": token}, name="/login [POST]")

    @task(5)
    def search_register(self):
        params = {"q": random.choice(QUERIES)}
        if random.random() < 0.3:
            params["available"] = "y"
        self.client.get("/register/", params=params, name="/register/?q=")

    @task(3)
    def browse_register(self):
        self.client.get("/register/", params={"page": random.randint(1, 50)}, name="/register/?page=")

    @task(2)
    def requests(self):
        self.client.get("/requests/", name="/requests/")

    @task(2)
    def home(self):
        self.client.get("/", name="/")

    @task(1)
    def schools(self):
        self.client.get("/schools/", name="/schools/")
