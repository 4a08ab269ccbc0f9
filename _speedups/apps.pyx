# cython: language_level=3
"""Compiled twin of fastframe/_pure/apps.py: a base class whose instances are called without
type.__call__'s generic path.

Calling an instance of a Python class goes through the type's tp_call: the arguments are packed
into a tuple, `__call__` is looked up, and the call is made again with the instance prepended.
An instance of a class made from CallableApp and armed by `arm` carries a vectorcall entry that
looks `__call__` up the same way (the type's method cache) and, when it is a plain function, calls
it with the instance prepended in place. Anything else takes the type's own tp_call, so the
result, the exceptions and any later change to `__call__` are those of the generic path.
"""

import sys

__all__ = ["CallableApp", "arm"]

cdef extern from *:
    """
    typedef struct {
        PyObject_HEAD
        vectorcallfunc vectorcall;
    } ff_app_object;

    static PyObject *ff_call_name = NULL;
    /* The tp_call every Python class with a __call__ has (slot_tp_call), read off one at import. */
    static ternaryfunc ff_slot_call = NULL;

    /* The type's own tp_call, with the arguments packed as a tuple and a dict. */
    static PyObject *ff_generic_call(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
        return _PyObject_MakeTpCall(PyThreadState_Get(), self, args, PyVectorcall_NARGS(nargsf), kwnames);
    }

    static PyObject *ff_app_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
        PyTypeObject *tp = Py_TYPE(self);
        PyObject *func, *result, *saved;
        PyObject **shifted;
        Py_ssize_t nargs;
        if (tp->tp_call != ff_slot_call || !(nargsf & PY_VECTORCALL_ARGUMENTS_OFFSET)) {
            return ff_generic_call(self, args, nargsf, kwnames);
        }
        func = _PyType_Lookup(tp, ff_call_name);
        if (func == NULL || !PyFunction_Check(func)) {
            return ff_generic_call(self, args, nargsf, kwnames);
        }
        /* The caller lent args[-1]: the instance goes there for the call, as a bound method would put it. */
        nargs = PyVectorcall_NARGS(nargsf);
        shifted = (PyObject **)args - 1;
        saved = shifted[0];
        shifted[0] = self;
        Py_INCREF(func);
        result = PyObject_Vectorcall(func, shifted, nargs + 1, kwnames);
        Py_DECREF(func);
        shifted[0] = saved;
        return result;
    }

    static PyType_Slot ff_app_slots[] = {
        {0, NULL}
    };

    /* The base itself is not callable: only its subclasses get the vectorcall flag (ff_arm_type). */
    static PyType_Spec ff_app_spec = {
        "fastframe._speedups.apps.CallableApp",
        sizeof(ff_app_object),
        0,
        Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
        ff_app_slots,
    };

    static PyObject *ff_make_base(PyObject *sample, PyObject *name) {
        ff_slot_call = Py_TYPE(sample)->tp_call;
        Py_INCREF(name);
        ff_call_name = name;
        return PyType_FromSpec(&ff_app_spec);
    }

    /* Give `cls`, when it lays its instances out from CallableApp's, the vectorcall flag and entry
       offset; an instance whose entry is still NULL is called the generic way. */
    static int ff_arm_type(PyObject *cls, PyObject *base) {
        PyTypeObject *tp = (PyTypeObject *)cls;
        if (!PyType_IsSubtype(tp, (PyTypeObject *)base)) return 0;
        tp->tp_vectorcall_offset = offsetof(ff_app_object, vectorcall);
        tp->tp_flags |= Py_TPFLAGS_HAVE_VECTORCALL;
        return 1;
    }

    static void ff_arm(PyObject *self) {
        ((ff_app_object *)self)->vectorcall = ff_app_vectorcall;
    }
    """
    object ff_make_base(object sample, object name)
    bint ff_arm_type(object cls, object base)
    void ff_arm(object self)


class _Sample:
    def __call__(self):
        pass


CallableApp = ff_make_base(_Sample(), sys.intern("__call__"))
# Declares the vectorcall entry as the one slot the base adds, so that object's default pickling and
# copying (which refuse an instance larger than its slots explain) still take subclasses' instances.
# No attribute has that name: the state they save is the instance dict and the subclasses' own slots.
CallableApp.__slots__ = ("__ff_vectorcall__",)


def _init_subclass(cls, **kwargs):
    # Python classes do not inherit the vectorcall flag: each subclass gets it here.
    ff_arm_type(cls, CallableApp)
    super(CallableApp, cls).__init_subclass__(**kwargs)


CallableApp.__init_subclass__ = classmethod(_init_subclass)


def arm(self):
    """Give `self`, an instance of a CallableApp class, its vectorcall entry (made once, in __init__)."""
    if isinstance(self, CallableApp):
        ff_arm(self)
