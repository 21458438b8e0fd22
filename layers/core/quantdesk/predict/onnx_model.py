"""A model in MLflow's ONNX flavor, scored with onnxruntime the way MLflow's ``pyfunc`` does.

The signature's columns feed the ONNX graph as ``mlflow.onnx`` feeds a DataFrame: a graph with
one data input gets the columns stacked in signature order (``(rows, columns)``), a graph with
several gets each column by its input's name. Params the model declares feed the graph inputs
of the same name (scalars), so a graph that takes e.g. a ``scale`` input gets it per request.
Predictions are what ``mlflow models serve`` answers for a DataFrame: one object per row keyed
by output name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np

from quantdesk.predict.errors import BadScoringInput, ModelUnavailable, UnsupportedModel
from quantdesk.predict.signature import ModelSpec, parse_mlmodel

#: onnxruntime's tensor type names -> numpy dtypes
TENSOR_TYPES: Final = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}


class OnnxModel:
    """An ONNX session and the signature it is fed by (loaded once per container)."""

    def __init__(self, spec: ModelSpec, onnx_bytes: bytes) -> None:
        # ~0.3 s: imported with the first model, never by the API's other routes
        import onnxruntime  # noqa: PLC0415

        options = onnxruntime.SessionOptions()
        # one Lambda vCPU-share per request: no thread pool to spin up
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self.session = onnxruntime.InferenceSession(
                onnx_bytes, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors on bad bytes
            raise UnsupportedModel(
                f"{spec.model_file} is not a loadable ONNX model: {str(exc)[:200]}",
                field=spec.model_file,
            ) from exc
        self.spec = spec
        param_names = {p.name for p in spec.params}
        inputs = self.session.get_inputs()
        self.data_inputs = [i for i in inputs if i.name not in param_names]
        self.param_inputs = {i.name: i for i in inputs if i.name in param_names}
        self.outputs = [o.name for o in self.session.get_outputs()]
        names = {c.name for c in spec.inputs}
        if len(self.data_inputs) > 1 and not {i.name for i in self.data_inputs} <= names:
            raise UnsupportedModel(
                "a graph with several inputs must name each after a signature column",
                field="signature.inputs",
            )

    @classmethod
    def load(cls, read: Callable[[str], bytes]) -> OnnxModel:
        """From a model directory's files: ``read(relative path)`` returns a file's bytes."""
        spec = parse_mlmodel(read("MLmodel").decode("utf-8"))
        return cls(spec, read(spec.model_file))

    def predict(self, columns: dict[str, Any], params: dict[str, Any]) -> list[dict[str, Any]]:
        rows = len(next(iter(columns.values())))
        feed = self._feed(columns)
        for name, value in params.items():
            if name in self.param_inputs:
                feed[name] = self._param(name, value)
        try:
            outputs = self.session.run(self.outputs, feed)
        except Exception as exc:  # onnxruntime's own error types are not importable stably
            raise BadScoringInput(
                f"the model could not score this input: {str(exc)[:200]}", field="body"
            ) from exc
        arrays = [np.asarray(o) for o in outputs]
        if any(a.size % rows for a in arrays):
            raise ModelUnavailable(
                "the model's outputs do not have one value (or vector) per input row",
                field="model",
            )
        flat = [a.reshape(rows, -1) for a in arrays]
        return [
            {
                name: _scalar(values[r]) if values.shape[1] == 1 else values[r].tolist()
                for name, values in zip(self.outputs, flat, strict=True)
            }
            for r in range(rows)
        ]

    def _feed(self, columns: dict[str, Any]) -> dict[str, Any]:
        if len(self.data_inputs) == 1:
            (only,) = self.data_inputs
            dtype = TENSOR_TYPES.get(only.type, np.float32)
            stacked: Any = np.column_stack([columns[c.name] for c in self.spec.inputs]).astype(
                dtype
            )
            return {only.name: stacked}
        feed = {}
        for graph_input in self.data_inputs:
            dtype = TENSOR_TYPES.get(graph_input.type, np.float32)
            values: Any = np.asarray(columns[graph_input.name]).astype(dtype)
            feed[graph_input.name] = (
                values.reshape(-1, 1) if len(graph_input.shape) == 2 else values
            )
        return feed

    def _param(self, name: str, value: Any) -> Any:
        graph_input = self.param_inputs[name]
        array: Any = np.asarray(value, dtype=TENSOR_TYPES.get(graph_input.type, np.float32))
        return array.reshape([1] * len(graph_input.shape))


def _scalar(value: Any) -> Any:
    item = value[0].item()
    return None if isinstance(item, float) and not np.isfinite(item) else item
