"""The legacy ``/predict`` endpoint: registered models in MLflow's format, scored with MLflow's
scoring protocol.

``signature``  the MLmodel file: flavors, the input signature and the params schema
``protocol``   a scoring request (JSON formats, CSV) -> columns checked against the signature
``onnx_model`` an ONNX model loaded from its MLflow directory, scored with onnxruntime
``registry``   versions and aliases in DynamoDB, the model files in S3
``service``    resolve an alias, load a version once per container, predict
"""
