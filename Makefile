# One command to run the assistant, one to test it. See README.md.
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
MODEL := models/prepago.tar.gz
DB    := var/prepago.db
TRAIN_INPUTS := config.yml domain.yml $(wildcard data/*.yml data/nlu_es/*.yml)

export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONWARNINGS := ignore
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
# Rasa's telemetry and its error reports would try to reach the internet.
export RASA_TELEMETRY_ENABLED := false
STEP := scripts/step.sh

.PHONY: run run-cluster test test-clocks test-deploy train seed eval-nlu validate clean system-tools bench

WIDGET_DEPS := web/node_modules/.package-lock.json

run: $(MODEL) $(DB) $(WIDGET_DEPS)  ## set up, train if needed, seed the demo store and start the assistant
	@$(BIN)/bot serve

REPLICAS ?= 2
ACTION_SERVERS ?= 1

# The production topology on this machine: REPLICAS Rasa processes and ACTION_SERVERS
# action servers behind HAProxy, on PostgreSQL and Redis (README, «Varias réplicas»).
run-cluster: $(MODEL) $(WIDGET_DEPS)
	@scripts/ensure-tools.sh haproxy
	@$(BIN)/bot cluster --replicas $(REPLICAS) --action-servers $(ACTION_SERVERS)

test: $(BIN)/.installed-test $(MODEL) $(WIDGET_DEPS) system-tools  ## set up and run the whole test suite
	$(BIN)/pytest

# The date- and time-sensitive tests again at fixed clocks (tests/clock.py: this process on
# time-machine, every server it starts on libfaketime): night in Mexico City, the first of a
# month, a Monday just after midnight, New Year's Eve and a leap day. `.ci/run` calls it.
CLOCK_TESTS := tests/test_calendar_edges.py tests/test_periods.py tests/test_actions.py tests/test_alerts.py \
	tests/test_store.py tests/test_insights.py tests/test_handoff.py tests/test_server.py tests/test_postgres.py \
	tests/test_handoff_browser.py tests/test_close_answers.py
CLOCKS := 2026-12-03T09:00:00Z 2026-03-01T07:00:00Z 2026-11-30T06:10:00Z 2027-01-01T05:00:00Z 2028-02-29T18:00:00Z

test-clocks: $(BIN)/.installed-test $(MODEL) $(WIDGET_DEPS) system-tools
	@for now in $(CLOCKS); do \
		echo "==> Pruebas sensibles a la fecha con el reloj en $$now"; \
		PREPAGO_TEST_NOW=$$now $(BIN)/pytest -q -p no:cacheprovider $(CLOCK_TESTS) || exit 1; \
	done

# The compose stack, built and run in Docker (base images from Debian's packages, no registry):
# a customer's chat and a handoff through HAProxy, a killed replica, a rolling restart under
# traffic, stop + start keeping the data. `.ci/run` calls it. scripts/test-deploy.sh.
test-deploy: $(BIN)/.installed-test system-tools
	@scripts/test-deploy.sh

# The widget's only dependency, socket.io-client, served from here (no CDN).
$(WIDGET_DEPS): web/package.json web/package-lock.json
	@$(STEP) "Instalando el widget y las gráficas (socket.io-client, Chart.js)" npm ci --prefix web --no-audit --no-fund

# Chromium (browser tests), HAProxy (cluster tests), docker-compose (deployment file checks).
system-tools:
	@$(STEP) "Instalando Chromium, HAProxy y docker-compose de Debian (si faltan)" scripts/ensure-tools.sh

$(BIN)/.installed: pyproject.toml requirements.lock
	@$(STEP) "Instalando Python y las dependencias (la primera vez, unos 2 minutos)" scripts/bootstrap.sh $(VENV)
	@touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	@$(STEP) "Instalando las herramientas de prueba" scripts/bootstrap.sh $(VENV) test
	@touch $@

# Trains only when the config, domain, training data or our components changed.
$(MODEL): $(BIN)/.installed $(TRAIN_INPUTS) $(wildcard components/*.py) bot/language.py bot/periods.py
	@$(STEP) "Entrenando el modelo de español (unos 20 s)" \
		$(BIN)/python scripts/rasa-quiet.py train --fixed-model-name prepago --out models
	@touch $@

train: $(MODEL)

$(DB): $(BIN)/.installed
	@$(STEP) "Sembrando las cuentas demo" $(BIN)/bot seed

seed: $(BIN)/.installed  ## reload the demo accounts with history ending yesterday
	$(BIN)/bot seed

validate: $(BIN)/.installed
	$(BIN)/rasa data validate --fail-on-warnings

eval-nlu: $(MODEL)  ## accuracy, macro-F1 and confusions on the development set
	$(BIN)/bot eval-nlu

clean:
	rm -rf models/*.tar.gz var .rasa

bench: $(BIN)/.installed-test $(MODEL)  ## quality, speed and store benchmarks → benchmarks/RESULTS.md
	$(BIN)/python -m benchmarks.run
