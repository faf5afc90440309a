# A Python application. Change the command to the one that starts it.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app

# Install the dependencies first, so that changing the code does not install them again.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

RUN useradd --system --uid 10001 app
USER app
EXPOSE 8000
CMD ["python", "app.py"]
