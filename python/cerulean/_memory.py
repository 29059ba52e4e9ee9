"""Caller memory for the native calls: buffers pass as they are; torch tensors as the
(address, length) pair of their storage, after checking that it is CPU memory laid out
contiguously (the native core reads or writes exactly those bytes)."""


def is_tensor(obj):
    return type(obj).__module__.startswith("torch") and hasattr(obj, "data_ptr")


def memory_of(obj):
    """What the native calls accept for `obj`: the object itself if it has the buffer protocol,
    or (data_ptr, nbytes) for a torch tensor. The caller keeps `obj` alive for the call."""
    if is_tensor(obj):
        if obj.device.type != "cpu":
            raise ValueError("cerulean reads and writes CPU tensors; move the tensor with .cpu() first")
        if not obj.is_contiguous():
            raise ValueError("the tensor is not contiguous; call .contiguous() first")
        return (obj.data_ptr(), obj.numel() * obj.element_size())
    return obj
