# A Python application on Alpine Linux. Packages with C extensions may need build tools
# (`apk add build-base`) when no musl wheel exists. Change the command to the one that starts
# your application.
FROM python:3.12-alpine

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

RUN adduser -S -D -H -u 10001 app
USER app
EXPOSE 8000
CMD ["python", "app.py"]
