# The production image: gunicorn for web, the same image runs the Celery worker and beat.
# Bookworm = the Debian 12 the project's recipes were tried on.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint draws PDFs through Pango/HarfBuzz; without a CJK font every Chinese glyph
# in 申请函, 申请表 and 证书 would print as a box. fontconfig builds the font cache here,
# at build time: the unprivileged user could not write one, and every process would
# rescan the large Noto CJK files on its first PDF.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk fontconfig \
 && fc-cache -f \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Requirements first, so a code change does not reinstall every package.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are part of the image (WhiteNoise serves them with hashed names). The key
# below only lets settings load for collectstatic; the running containers get their own.
RUN DEBUG=False SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --noinput -v0 \
 && groupadd --gid 10001 conac \
 && useradd --uid 10001 --gid conac --no-create-home --home-dir /app --shell /usr/sbin/nologin conac \
 && mkdir -p var/mail var/sms \
 && chown conac:conac var var/mail var/sms

# The code stays owned by root: the application can write only under var/.
USER 10001:10001

EXPOSE 8000
CMD ["gunicorn", "-c", "conac/gunicorn.conf.py", "conac.wsgi"]
