# The project installed into the official Airflow image, pinned like the local install.
FROM apache/airflow:3.3.2-python3.11
USER airflow
WORKDIR /opt/news-pipeline
COPY --chown=airflow:root pyproject.toml constraints.txt README.md ./
COPY --chown=airflow:root pipeline ./pipeline
COPY --chown=airflow:root sql ./sql
RUN pip install --no-cache-dir -c constraints.txt -e ".[airflow,s3]" && mkdir -p /opt/airflow/archive
COPY --chown=airflow:root dags /opt/airflow/dags
COPY --chown=airflow:root sources.example.yaml /opt/news-pipeline/sources.yaml
