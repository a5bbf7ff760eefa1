# The hub's production image: one image, three roles (web, worker, beat).

# Chart.js for the KPI dashboard, from npm at the version package-lock.json pins.
FROM node:22-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HUB_ENV=production HUB_VAR_DIR=/var/lib/hub
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
COPY --from=assets /assets/node_modules/chart.js/dist /app/node_modules/chart.js/dist
RUN mkdir -p /var/lib/hub && useradd --system --home /app hub && chown hub /var/lib/hub
USER hub
EXPOSE 8000
CMD ["daphne", "--bind", "0.0.0.0", "--port", "8000", "--proxy-headers", "hub.asgi:application"]
