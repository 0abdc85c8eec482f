"""The Spark engine: the data-sized steps of hmrec on Apache Spark. The only place that imports pyspark."""
