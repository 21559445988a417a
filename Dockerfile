# lienthong service image: Python, the PKCS#11 tooling and the PDF/XML second-opinion tools.
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        softhsm2 opensc poppler-utils xmlsec1 libnss3-tools fonts-liberation2 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
COPY . .
RUN pip install --no-cache-dir --no-deps --no-build-isolation .

# Tokens live in a volume so that keys survive container rebuilds.
ENV SOFTHSM2_CONF=/var/lib/softhsm/softhsm2.conf \
    LIENTHONG_PKCS11_MODULE=/usr/lib/softhsm/libsofthsm2.so \
    LIENTHONG_DATA_DIR=/var/lib/lienthong
VOLUME ["/var/lib/softhsm", "/var/lib/lienthong"]

RUN useradd --system --home /var/lib/lienthong lienthong \
    && mkdir -p /var/lib/softhsm/tokens /var/lib/lienthong \
    && printf 'directories.tokendir = /var/lib/softhsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' > /var/lib/softhsm/softhsm2.conf \
    && chown -R lienthong /var/lib/softhsm /var/lib/lienthong
USER lienthong

ENTRYPOINT ["lienthong"]
CMD ["--help"]
