"""What a run writes for people: metric files, TensorBoard events, PNG figures."""
