FROM python:3.12
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 API_TOKEN=changeme
ARG DB_PASSWORD
RUN apt-get update && apt-get install -y --no-install-recommends \
      gcc \
      libpq-dev=15.6-0+deb12u1 \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir flask gunicorn==22.0.0 \
    && python -m pip install --no-cache-dir -r requirements.txt
COPY id_rsa /root/.ssh/id_rsa
RUN git clone git@example.invalid:org/app.git /app
RUN rm /root/.ssh/id_rsa
ADD settings.py /app/
WORKDIR /app
USER app
USER root
CMD gunicorn app:app
