"""``keras.layers``: the Layer base class (base_layer.py) and the layers, by module."""
from .base_layer import Layer
from .convolutional import (AveragePooling2D, AvgPool2D, Conv2D, Convolution2D,
                            GlobalAveragePooling2D, GlobalAvgPool2D, GlobalMaxPool2D,
                            GlobalMaxPooling2D, MaxPool2D, MaxPooling2D)
from .core_layers import (Activation, Add, Average, Concatenate, Dense, Dropout, Embedding,
                          Flatten, Lambda, Multiply, Reshape, Subtract)
from .functional import Input, KerasTensor
from .normalization import BatchNormalization, LayerNormalization

__all__ = ["Layer", "Dense", "Activation", "Flatten", "Reshape", "Lambda", "Dropout", "Add",
           "Subtract", "Multiply", "Average", "Concatenate", "Embedding", "BatchNormalization", "LayerNormalization",
           "Conv2D",
           "Convolution2D", "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D",
           "GlobalAveragePooling2D", "GlobalAvgPool2D", "GlobalMaxPooling2D", "GlobalMaxPool2D",
           "Input", "KerasTensor"]
