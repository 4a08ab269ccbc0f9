# cython: language_level=3
"""What the compiled twins share to read and write an instance's slots in place."""

from cpython.object cimport PyTypeObject

cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        Py_ssize_t offset
    ctypedef struct PyMemberDescrObject:
        PyMemberDef *d_member
    PyTypeObject PyMemberDescr_Type
    const unsigned long Py_TPFLAGS_VALID_VERSION_TAG


cdef inline Py_ssize_t slot_offset(object descriptor) noexcept:
    """Where the __slots__ member `descriptor` keeps its value in an instance; 0 when it is none."""
    if type(descriptor) is not <object>&PyMemberDescr_Type:
        return 0
    return (<PyMemberDescrObject *>descriptor).d_member.offset


cdef inline unsigned int type_tag(object cls) noexcept:
    """The class's version tag; 0 when it has no valid one: it, or a base, was changed since last checked."""
    cdef PyTypeObject *t = <PyTypeObject *>cls
    if not (t.tp_flags & Py_TPFLAGS_VALID_VERSION_TAG):
        return 0
    return t.tp_version_tag
