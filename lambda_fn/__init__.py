"""The example ML Lambda function: training, handler code (`function/`), container image."""
